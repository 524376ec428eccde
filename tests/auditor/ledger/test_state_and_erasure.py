"""Issue 13 through the API and CLI: warnings, withdrawal from everything, erasure that erases."""

from __future__ import annotations

import json

import pytest

EVENT = {"type": "granted", "subject": "ann@example.org", "channel": "email", "purpose": "marketing",
         "legal_basis": "consent", "claimed_at": "2026-11-01T10:00:00Z",
         "evidence": {"source_url": "https://shop.example/f", "ip": "203.0.113.9", "user_agent": "Firefox/130",
                      "notice_version": "v1", "notice_sha256": "c" * 64}, "reason": "signed up at the till"}


@pytest.fixture
def sender(make_user):
    return {"Authorization": f"Bearer {make_user('crm@shop.example', 'sender', scopes=['consent:write', 'consent:read'])[1]}"}


@pytest.fixture
def dpo(make_user):
    key = make_user("dpo@shop.example", "legal", scopes=["consent:read", "consent:erase"])[1]
    return {"Authorization": f"Bearer {key}"}


def test_stale_confirmation_is_answered_with_a_warning_and_changes_nothing(client, sender):
    assert client.post("/api/v1/consents", json=EVENT, headers=sender).status_code == 201
    withdraw = {"type": "withdrawn", "subject": "ann@example.org", "channel": "*", "purpose": "*",
                "claimed_at": "2026-11-02T10:00:00Z"}
    assert client.post("/api/v1/consents", json=withdraw, headers=sender).status_code == 201
    r = client.post("/api/v1/consents", json={"type": "confirmed", "subject": "ann@example.org",
                                              "channel": "email", "purpose": "marketing"}, headers=sender)
    assert r.status_code == 201
    assert r.json["warnings"][0]["index"] == 0 and "restores nothing" in r.json["warnings"][0]["warning"]
    states = {(s["channel"], s["purpose"]): s["status"] for s in
              client.get("/api/v1/consents/ann@example.org", headers=sender).json["states"]}
    assert states[("email", "marketing")] == "withdrawn" and states[("*", "*")] == "withdrawn"


def test_the_state_carries_the_legal_basis(client, sender):
    client.post("/api/v1/consents", json={**EVENT, "legal_basis": "legitimate_interest"}, headers=sender)
    [state] = client.get("/api/v1/consents/ann@example.org", headers=sender).json["states"]
    assert state["legal_basis"] == "legitimate_interest"


def test_future_claimed_time_is_refused_by_the_api(client, sender):
    r = client.post("/api/v1/consents", json={**EVENT, "claimed_at": "2036-01-01T00:00:00Z"}, headers=sender)
    assert r.status_code == 422 and r.json["errors"][0]["loc"] == "claimed_at"


def test_legal_erases_reads_show_erased_and_a_second_erase_is_a_noop(client, app, sender, dpo):
    client.post("/api/v1/consents", json=EVENT, headers=sender)
    before = client.get("/api/v1/consents/ann@example.org", headers=dpo).json["history"][0]
    assert before["evidence"]["ip"] == "203.0.113.9" and before["reason"] == "signed up at the till"
    r = client.post("/api/v1/ledger/erase", json={"subject": "ann@example.org", "reason": "art. 17"}, headers=dpo)
    assert r.status_code == 201, r.json
    body = client.get("/api/v1/consents/ann@example.org", headers=dpo).json
    text = json.dumps(body)
    assert "203.0.113.9" not in text and "Firefox" not in text and "till" not in text
    assert body["history"][0]["evidence"]["ip"] == "erased" and body["history"][0]["reason"] == "erased"
    again = client.post("/api/v1/ledger/erase", json={"subject": "ann@example.org"}, headers=dpo)
    assert again.json["seqs"] == r.json["seqs"] and "already erased" in again.json["warnings"][0]["warning"]
    from auditor.ledger.services import get_ledger

    ledger = get_ledger(app)
    assert ledger.size() == 2 and ledger.verify().ok
    # The personal evidence is not in the stored event at all, only its ciphertext.
    stored = json.dumps(ledger.history(body["pseudonym"], as_hashed=True))
    assert "203.0.113.9" not in stored and "Firefox" not in stored


def test_legal_role_holds_the_erase_scope():
    from auditor.accounts.services import ROLE_SCOPES

    assert "consent:erase" in ROLE_SCOPES["legal"]


def test_subject_report_data_after_erasure_has_nothing_personal(client, app, sender, dpo):
    client.post("/api/v1/consents", json=EVENT, headers=sender)
    client.post("/api/v1/ledger/erase", json={"subject": "ann@example.org"}, headers=dpo)
    from auditor.reports.services import subject_data

    data = subject_data(app, "ann@example.org")
    text = repr(data)
    assert "203.0.113.9" not in text and "Firefox" not in text and "till" not in text
    assert "erased" in text


# --- CLI ------------------------------------------------------------------------------

def test_cli_withdraws_from_everything_and_warns_on_a_stale_grant(runner):
    r = runner.invoke(["ledger", "append", "--type", "withdrawn", "--subject", "bo@example.org", "--channel", "*",
                       "--purpose", "*", "--claimed-at", "2026-03-01T00:00:00Z"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(["ledger", "append", "--type", "granted", "--subject", "bo@example.org",
                       "--claimed-at", "2025-01-01T00:00:00Z"])
    assert r.exit_code == 0 and "warning: ignored" in r.output
    r = runner.invoke(["ledger", "status", "bo@example.org", "--channel", "email", "--json"])
    assert [s["status"] for s in json.loads(r.output)["states"]] == ["withdrawn"]


def test_cli_erase_of_a_non_identifier_says_it_is_invalid(runner):
    r = runner.invoke(["ledger", "erase", "not an email"])
    assert r.exit_code == 2
    assert "not an email address, a phone number" in r.output and "not a phone number" not in r.output


def test_reimport_of_an_erased_persons_crm_row_is_refused_with_its_line(runner, app, tmp_path):
    row = "granted,old@example.org,email,marketing,2026-01-10T09:00:00Z\n"
    path = tmp_path / "crm.csv"
    path.write_text("type,subject,channel,purpose,claimed_at\n" + row, encoding="utf-8")
    assert runner.invoke(["ledger", "import", str(path)]).exit_code == 0
    r = runner.invoke(["ledger", "erase", "old@example.org"])
    assert r.exit_code == 0, r.output
    path.write_text("type,subject,channel,purpose,claimed_at\n" + row
                    + "granted,new@example.org,email,marketing,2026-01-10T09:00:00Z\n", encoding="utf-8")
    r = runner.invoke(["ledger", "import", str(path), "--json"])
    assert r.exit_code == 1
    out = json.loads(r.output)
    assert out["imported"] == 1 and out["errors"][0]["line"] == 2 and "erased" in out["errors"][0]["error"]
    from auditor.ledger.services import get_ledger

    ledger = get_ledger(app)
    p = ledger.pseudonym_of("old@example.org")
    assert ledger.identity(p) is None
    assert ledger.current_states([p], "email", "marketing")[p].status == "erased"
    r = runner.invoke(["ledger", "erase", "old@example.org"])
    assert r.exit_code == 0 and "already erased" in r.output
