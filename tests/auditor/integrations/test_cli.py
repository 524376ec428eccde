"""``auditor integrations``, ``auditor audience``, ``auditor suppressions`` as a user types them."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from tests.auditor.integrations.conftest import PEOPLE
from tests.checks.providers.conftest import SendGridSigner, fixture_bytes


def run(app, args, input=None):
    from auditor.cli import cli

    with app.app_context():
        return CliRunner().invoke(cli, args, input=input, catch_exceptions=False)


def test_add_list_remove(app, tmp_path):
    key = tmp_path / "sg.txt"
    key.write_text(SendGridSigner().public_b64)
    r = run(app, ["integrations", "add", "sendgrid-main", "--provider", "sendgrid", "--verification-key", str(key),
                  "--controller", "OOO Shop", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["webhook_url"].startswith("http://127.0.0.1:8000/hooks/sendgrid/") and len(out["webhook_url"].rsplit("/", 1)[1]) == 43
    r = run(app, ["integrations", "add", "uni", "--provider", "unisender", "--api-key-stdin"], input="secret-key\n")
    assert r.exit_code == 0 and "webhook URL" in r.output
    listed = json.loads(run(app, ["integrations", "list", "--json"]).output)["integrations"]
    assert [i["name"] for i in listed] == ["sendgrid-main", "uni"] and "secret-key" not in json.dumps(listed)
    assert out["webhook_url"].rsplit("/", 1)[1] not in json.dumps(listed)
    r = run(app, ["integrations", "add", "uni", "--provider", "unisender", "--api-key-stdin"], input="k\n")
    assert r.exit_code == 2 and "exists" in r.output
    r = run(app, ["integrations", "add", "x", "--provider", "unisender"])
    assert r.exit_code == 2 and "API key" in r.output
    bad = tmp_path / "bad.txt"
    bad.write_text("not a key")
    assert run(app, ["integrations", "add", "y", "--provider", "sendgrid", "--verification-key", str(bad)]).exit_code == 2
    assert run(app, ["integrations", "remove", "uni"]).exit_code == 0
    assert run(app, ["integrations", "remove", "uni"]).exit_code == 2
    client = app.test_client()
    assert client.post("/hooks/sendgrid/" + out["webhook_url"].rsplit("/", 1)[1], data=b"[]",
                       content_type="application/json").status_code == 403  # signed: no signature


def test_import_provider_export_and_mapped_crm_file(hooks_sqlite, tmp_path):
    h = hooks_sqlite
    app = h.loop.app
    export = tmp_path / "bounces.csv"
    export.write_text("email,created,status,reason\n"
                      "gleb@example.org,1795424600,5.1.1,no such user\n"
                      "not-an-address,1795424600,5.1.1,x\n"
                      "vera@example.org,1795424600,4.2.2,mailbox full\n")
    r = run(app, ["integrations", "import", "sg", str(export), "--json"])
    assert r.exit_code == 1, r.output
    out = json.loads(r.output[r.output.index("{"):])
    assert out["rows"] == 3 and out["events"] == 2 and out["hard_bounces"] == 1
    assert [b["line"] for b in out["bad"]] == [3]
    assert h.gate()["gleb@example.org"] == "DELIVERY-HARD-BOUNCE"
    assert h.gate()["vera@example.org"] == "allowed"  # a 4.x.x bounce is soft

    mapping = tmp_path / "bitrix.yaml"
    mapping.write_text('address: "E-mail (рабочий)"\nid: ID\ndelimiter: ";"\ntime: "Дата изменения"\n'
                       'time_format: "%d.%m.%Y %H:%M:%S"\ntimezone: "+03:00"\n'
                       'event:\n  column: "Не участвует в рассылках"\n  values: {"Да": unsubscribe, "Нет": skip}\n',
                       encoding="utf-8")
    assert run(app, ["integrations", "add", "bitrix", "--provider", "csv", "--mapping", str(mapping)]).exit_code == 0
    crm = tmp_path / "contacts.csv"
    crm.write_text("ID;Имя;E-mail (рабочий);Не участвует в рассылках;Дата изменения\n"
                   "11;Анна;anna@example.org;Нет;23.11.2026 12:00:00\n"
                   "12;Борис;boris@example.org;Да;23.11.2026 12:30:00\n"
                   "13;Вера;;Да;23.11.2026 12:31:00\n", encoding="utf-8")
    r = run(app, ["integrations", "import", "bitrix", str(crm)])
    assert r.exit_code == 1 and "line 4" in r.output
    assert h.gate()["boris@example.org"] == "CONSENT-WITHDRAWN"
    (w,) = h.withdrawals("boris@example.org")
    assert w["claimed_at"] == "2026-11-23T09:30:00.000000Z" and w["evidence"]["source_url"].endswith(":event:file:12")
    r = run(app, ["integrations", "import", "bitrix", str(crm), "--json"])  # the same file again
    assert json.loads(r.output[r.output.index("{"):])["withdrawn"] == 0 and len(h.withdrawals("boris@example.org")) == 1
    assert run(app, ["integrations", "import", "nosuch", str(crm)]).exit_code == 2
    assert run(app, ["integrations", "import", "bitrix", str(tmp_path / "missing.csv")]).exit_code == 2
    bad_map = tmp_path / "bad.yaml"
    bad_map.write_text("event: unsubscribe\n")
    r = run(app, ["integrations", "add", "b2", "--provider", "csv", "--mapping", str(bad_map)])
    assert r.exit_code == 2 and "address" in r.output


def test_audience_and_suppressions_cli_and_api(hooks, tmp_path):
    h = hooks
    app = h.loop.app
    h.post("sendgrid", fixture_bytes("sendgrid.json"))  # boris unsub, vera complaint, gleb bounce, egor unsub
    r = h.client.get(f"/api/v1/campaigns/{h.campaign_id}/audience", headers=h.loop.h("sender"))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["recipient"] for row in rows] == ["anna@example.org"]
    assert rows[0]["unsubscribe_url"].startswith("http://127.0.0.1:8000/u/")
    assert rows[0]["list_unsubscribe"] == f"<{rows[0]['unsubscribe_url']}>"
    assert rows[0]["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"
    # the URL is the gate's own: one-click unsubscribe works with it
    token = rows[0]["unsubscribe_url"].rsplit("/", 1)[1]
    assert h.client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    r = h.client.get(f"/api/v1/campaigns/{h.campaign_id}/audience?format=jsonl", headers=h.loop.h("sender"))
    assert r.get_data(as_text=True) == ""  # anna just unsubscribed
    assert h.client.get(f"/api/v1/campaigns/{h.campaign_id}/audience",
                        headers=h.loop.h("legal")).status_code == 403
    assert h.client.get("/api/v1/campaigns/999/audience", headers=h.loop.h("sender")).status_code == 404
    # a second campaign, not approved (blocked here: the complaints fed above give the domain a
    # measured spam rate over the limit, BULK-SPAM-RATE)
    r = h.loop.submit(h.loop.last_doc)
    status = r.json["status"]
    r = h.client.get(f"/api/v1/campaigns/{r.json['id']}/audience", headers=h.loop.h("sender"))
    assert status != "approved" and r.status_code == 409 and f"{status}, not approved" in r.json["detail"]

    r = h.client.get("/api/v1/suppressions?format=jsonl", headers=h.loop.h("sender"))
    assert r.status_code == 200, r.get_data(as_text=True)
    got = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    by = {(g.get("recipient"), g["reason"]) for g in got}
    assert {("boris@example.org", "withdrawn"), ("vera@example.org", "complaint"), ("egor@example.org", "withdrawn"),
            ("gleb@example.org", "hard_bounce"), ("anna@example.org", "withdrawn")} == by
    h.loop.consent("egor@example.org", "granted", claimed_at="2026-11-24T10:00:00+00:00")  # consents again
    r = h.client.get("/api/v1/suppressions?format=jsonl", headers=h.loop.h("sender"))
    assert "egor@example.org" not in r.get_data(as_text=True)
    assert h.client.get("/api/v1/suppressions?since=2026-11-23T00:00:00", headers=h.loop.h("sender")).status_code == 422
    r = h.client.get("/api/v1/suppressions?since=2999-01-01T00:00:00Z", headers=h.loop.h("sender"))
    assert r.get_data(as_text=True).splitlines() == ["recipient,recipient_sha256,reason,channel,purpose,at,source"]

    # erasure: vera then appears only as the SHA-256 of her normalised address
    from auditor.integrations.exports import sha256_of
    from auditor.ledger.services import get_ledger

    get_ledger(app).erase("vera@example.org", actor="test")
    out = tmp_path / "s.jsonl"
    r = run(app, ["suppressions", "--format", "jsonl", "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "vera@example.org" not in text
    rows = [json.loads(line) for line in text.splitlines()]
    assert {"recipient_sha256": sha256_of("Vera@Example.org")}.items() <= next(
        x for x in rows if x["reason"] == "erased").items()
    assert run(app, ["suppressions", "--since", "yesterday"]).exit_code == 2
    r = run(app, ["audience", str(h.campaign_id), "--format", "jsonl"])
    assert r.exit_code == 0 and [json.loads(x)["recipient"] for x in r.output.splitlines()] == ["egor@example.org"]
    assert run(app, ["audience", "999"]).exit_code == 2
    assert all(p in PEOPLE for p in [x.get("recipient") for x in rows if x.get("recipient")])
