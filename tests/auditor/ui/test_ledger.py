"""The consent pages: lookup by address, proof download, erasure (admins only), status."""

from __future__ import annotations

import json

import pytest

from consent_ledger import EventIn, Evidence
from consent_ledger.proofs import verify_inclusion

ADDRESS = "Ann.Person@Example.org"


@pytest.fixture
def recorded(app) -> str:
    """Two events of one person; returns the normalised address."""
    from auditor.ledger.services import get_ledger

    ev = Evidence(source_url="https://shop.example/signup", ip="192.0.2.1", user_agent="UA/1",
                  notice_version="v3", notice_sha256="ab" * 32, separate_document=True, pre_ticked=False,
                  bundled=False)
    get_ledger(app).append([EventIn(type="granted", subject=ADDRESS, channel="email", purpose="marketing",
                                    evidence=ev),
                            EventIn(type="confirmed", subject=ADDRESS, channel="email", purpose="marketing",
                                    evidence=ev)], actor="user:crm")
    return ADDRESS.lower()


def test_lookup_shows_state_and_history_without_storing_the_address(app, as_role, recorded):
    from auditor.ledger.services import get_ledger

    page = as_role("legal").get("/ledger", query_string={"q": ADDRESS}).get_data(as_text=True)
    p = get_ledger(app).pseudonym_of(ADDRESS, "email")
    assert p in page
    assert "confirmed" in page and "https://shop.example/signup" in page and "v3" in page
    assert page.count('class="event"') == 2
    # No claimed time was recorded: the page says what the evidence lacks, on both events.
    assert page.count("Evidence lacks: claimed_at (CONSENT-EVIDENCE-WEAK)") == 2
    ru = as_role("legal").get("/ledger", query_string={"q": ADDRESS}, headers={"Accept-Language": "ru"})
    assert "В доказательствах нет: время события (по данным отправителя)" in ru.get_data(as_text=True)


def test_unknown_person_and_bad_input(as_role, recorded):
    c = as_role("legal")
    assert "no events for this person" in c.get("/ledger?q=nobody@example.org").get_data(as_text=True)
    assert c.get("/ledger?q=not an address").status_code == 422


def test_proof_download_verifies_offline(app, as_role, recorded):
    r = as_role("legal").get("/ledger/proof/2")
    assert r.status_code == 200
    assert "attachment" in r.headers["Content-Disposition"]
    doc = json.loads(r.data)
    verify_inclusion(doc, app.extensions["auditor"].public_key_pem)
    assert doc["event"]["type"] == "confirmed"
    assert as_role("legal").get("/ledger/proof/99").status_code == 404


def test_who_reaches_the_consent_pages(as_role, recorded):
    assert as_role("sender").get("/ledger?q=" + ADDRESS).status_code == 403
    assert as_role("security").get("/ledger?q=" + ADDRESS).status_code == 403
    assert as_role("security").get("/ledger/status").status_code == 200
    assert as_role("sender").get("/ledger/status").status_code == 403


def test_only_admins_and_legal_erase_and_only_with_reason_and_confirmation(app, as_role, recorded):
    from auditor.ledger.services import get_ledger

    for role in ("security", "sender"):
        r = as_role(role).post("/ledger/erase", data={"q": ADDRESS, "reason": "DSAR-1", "confirm": "yes"})
        assert r.status_code == 403, role
    legal_page = as_role("legal").get("/ledger?q=" + ADDRESS).get_data(as_text=True)
    assert "/ledger/erase" in legal_page  # the DPO answers erasure requests
    admin = as_role("admin")
    assert "/ledger/erase" in admin.get("/ledger?q=" + ADDRESS).get_data(as_text=True)
    admin.post("/ledger/erase", data={"q": ADDRESS, "reason": "DSAR-1"})  # no confirmation
    p = get_ledger(app).pseudonym_of(ADDRESS, "email")
    assert [e["type"] for e in get_ledger(app).history(p)] == ["granted", "confirmed"]
    r = admin.post("/ledger/erase", data={"q": ADDRESS, "reason": "DSAR-1", "confirm": "yes"})
    assert r.status_code == 303
    assert get_ledger(app).history(p)[-1]["type"] == "erased"
    assert get_ledger(app).identity(p) is None
    assert "ledger.erase" in admin.get("/audit-log").get_data(as_text=True)


def test_status_shows_size_checkpoint_and_last_verify(as_role, recorded):
    c = as_role("security")
    page = c.get("/ledger/status").get_data(as_text=True)
    assert 'data-testid="size">2<' in page
    assert "Not verified from the UI yet" in page
    assert c.post("/ledger/verify").status_code == 303
    page = c.get("/ledger/status").get_data(as_text=True)
    assert "intact" in page and "security@auditor.test" in page


def test_page_shows_what_the_state_machine_ignored_and_erased_evidence(app, as_role, recorded):
    from auditor.ledger.services import get_ledger

    led = get_ledger(app)
    led.append([EventIn(type="withdrawn", subject=ADDRESS, channel="email", purpose="marketing"),
                EventIn(type="confirmed", subject=ADDRESS, channel="email", purpose="marketing")], actor="user:crm")
    page = as_role("legal").get("/ledger", query_string={"q": ADDRESS}).get_data(as_text=True)
    assert page.count('class="small text-warning-emphasis event-warning"') == 1
    assert "Recorded without effect" in page and "restores nothing" in page
    assert "192.0.2.1" in page and "UA/1" in page
    led.erase(ADDRESS, "user:dpo")
    page = as_role("legal").get("/ledger", query_string={"q": led.pseudonym_of(ADDRESS)}).get_data(as_text=True)
    assert "192.0.2.1" not in page and "UA/1" not in page
    assert page.count('<span class="badge text-bg-dark">erased</span>') >= 4  # ip and user agent of two events
