"""Webhooks through HTTP: each provider's events reach the ledger and the gate; refusals store nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.checks.providers.conftest import fixture_bytes, unisender_body

EXPECTED = {"anna@example.org": "allowed", "boris@example.org": "CONSENT-WITHDRAWN",
            "vera@example.org": "CONSENT-WITHDRAWN", "gleb@example.org": "DELIVERY-HARD-BOUNCE"}


def test_sendgrid_batch_withdraws_suppresses_and_stores_delivery(hooks):
    assert set(hooks.gate().values()) == {"allowed"}
    r = hooks.post("sendgrid", fixture_bytes("sendgrid.json"))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["events"] == 11 and r.json["duplicate"] is False and r.json["state"] == "processed"
    assert r.json["withdrawn"] == 3 and r.json["hard_bounces"] == 1  # boris, vera, egor; gleb
    assert hooks.gate() == EXPECTED
    (w,) = hooks.withdrawals("vera@example.org")
    assert w["method"] == "esp_complaint" and w["reason"].startswith("complaint: sendgrid spamreport")
    assert w["claimed_at"] == "2026-11-23T09:10:00.000000Z" and w["controller"] == "OOO Shop"
    assert w["evidence"]["source_url"].endswith(":event:AmQTsFE1UHqsa8Jk7c3kCA==")
    assert hooks.withdrawals("boris@example.org")[0]["method"] == "esp_unsubscribe"
    # the duplicated unsubscribe in the batch is one delivery event; every other event is stored
    assert hooks.count("delivery_events") == 10
    assert hooks.count("delivery_events", "campaign_id = 1 AND kind = 'delivered'") == 1
    assert hooks.count("webhook_inbox", "state = 'processed' AND body IS NULL") == 1


@pytest.mark.parametrize(("provider", "body"), [
    ("unisender", None),
    ("sendpulse", "sendpulse.json"),
])
def test_json_providers_reach_the_gate(hooks_sqlite, provider, body):
    h = hooks_sqlite
    r = h.post(provider, unisender_body() if body is None else fixture_bytes(body))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert h.gate() == EXPECTED
    assert len(h.withdrawals("boris@example.org")) == 1  # the batch repeats boris's event


def test_mailchimp_forms_reach_the_gate_and_get_validates(hooks_sqlite):
    h = hooks_sqlite
    assert h.client.get(h.urls["mailchimp"]).status_code == 200
    for name in ("mailchimp_unsubscribe.txt", "mailchimp_abuse.txt", "mailchimp_hard.txt",
                 "mailchimp_subscribe.txt"):
        r = h.post("mailchimp", fixture_bytes(name))
        assert r.status_code == 200, r.get_data(as_text=True)
    assert h.gate() == EXPECTED
    assert h.withdrawals("vera@example.org")[0]["method"] == "esp_complaint"


def test_replays_change_nothing(hooks):
    body = fixture_bytes("sendgrid.json")
    first = hooks.post("sendgrid", body)
    again = hooks.post("sendgrid", body)  # the provider retries after a timeout: same bytes
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert again.json["inbox_id"] == first.json["inbox_id"]
    # ... or re-batches: a new body carrying events already stored
    events = json.loads(body)
    rebatched = json.dumps([events[3], events[2], events[4]]).encode()
    r = hooks.post("sendgrid", rebatched)
    assert r.status_code == 200 and r.json["duplicate"] is False
    assert r.json["withdrawn"] == 0 and r.json["hard_bounces"] == 0
    assert len(hooks.withdrawals("boris@example.org")) == 1
    assert len(hooks.withdrawals("vera@example.org")) == 1
    assert hooks.count("delivery_events") == 10 and hooks.count("webhook_inbox") == 2


def test_a_second_provider_reporting_the_same_person_adds_no_withdrawal(hooks_sqlite):
    h = hooks_sqlite
    h.post("sendgrid", fixture_bytes("sendgrid.json"))
    r = h.post("sendpulse", fixture_bytes("sendpulse.json"))
    assert r.status_code == 200 and r.json["withdrawn"] == 0
    assert len(h.withdrawals("vera@example.org")) == 1


def test_late_unsubscribe_older_than_a_new_consent_does_not_withdraw(hooks_sqlite):
    h = hooks_sqlite
    h.loop.consent("anna@example.org", "granted", claimed_at="2026-11-23T12:00:00+00:00")
    body = b'[{"email":"anna@example.org","timestamp":1795424700,"event":"unsubscribe","sg_event_id":"late-1"}]'
    r = h.post("sendgrid", body)  # 09:05, arriving after the 12:00 consent
    assert r.status_code == 200 and r.json["withdrawn"] == 0
    assert h.gate()["anna@example.org"] == "allowed"
    assert h.count("delivery_events", "provider_event_id = 'late-1'") == 1
    newer = b'[{"email":"anna@example.org","timestamp":1795438800,"event":"unsubscribe","sg_event_id":"new-1"}]'
    assert h.post("sendgrid", newer).json["withdrawn"] == 1  # 13:00: after the consent
    assert h.gate()["anna@example.org"] == "CONSENT-WITHDRAWN"


def test_forged_signatures_and_tokens_are_403_and_store_nothing(hooks):
    body = fixture_bytes("sendgrid.json")
    forged = hooks.signer.headers(body.replace(b"boris", b"borya"))
    assert hooks.post("sendgrid", body, headers=forged).status_code == 403
    assert hooks.post("sendgrid", body, sign=False).status_code == 403
    assert hooks.post("unisender", unisender_body("wrong-key")).status_code == 403
    token = hooks.urls["sendpulse"].rsplit("/", 1)[1]
    assert hooks.post("sendpulse", fixture_bytes("sendpulse.json"),
                      url=hooks.urls["sendpulse"][:-3] + "xyz").status_code == 403
    r = hooks.post("sendpulse", fixture_bytes("sendpulse.json"), url=f"/hooks/mailchimp/{token}")
    assert r.status_code == 403  # a token works only for its own provider
    assert r.headers["Content-Type"] == "application/problem+json"
    assert hooks.client.post("/hooks/nosuch/abc", data=b"[]").status_code == 404
    assert hooks.count("webhook_inbox") == 0 and hooks.count("delivery_events") == 0
    assert set(hooks.gate().values()) == {"allowed"}


def test_malformed_truncated_and_oversized_bodies(hooks):
    body = fixture_bytes("sendpulse.json")
    r = hooks.post("sendpulse", body[:-40])
    assert r.status_code == 400 and "not valid JSON" in r.json["detail"]
    r = hooks.post("sendpulse", b'{"event": "spam"}')
    assert r.status_code == 400 and "array" in r.json["detail"]
    # a lone surrogate escape: before, the worker's parse (or the inline one) failed on it after the 2xx
    r = hooks.post("sendpulse", body.replace(b'"Firefox"', b'"Firefox \\ud800"'))
    assert r.status_code == 400 and "lone UTF-16 surrogate" in r.json["detail"]
    big = json.dumps([json.loads(body)[0]] * 2000).encode()  # over the 64 KiB cap of the tests
    r = hooks.post("sendpulse", big)
    assert r.status_code == 413
    assert hooks.count("webhook_inbox") == 0


def test_integrations_api_never_shows_secrets(hooks_sqlite):
    h = hooks_sqlite
    h.post("sendpulse", fixture_bytes("sendpulse.json"))
    r = h.client.get("/api/v1/integrations", headers=h.loop.h("sender"))
    assert r.status_code == 403
    from auditor.accounts.services import create_key, create_user
    from auditor.db import transaction

    with transaction(h.loop.app.extensions["auditor"].sessions) as s:
        key = create_key(s, create_user(s, "root@auditor.test", "admin", "admin-password-1"), "k", ["admin"])[1]
    r = h.client.get("/api/v1/integrations", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "6ou4ekyf8" not in text and h.signer.public_b64[:40] not in text
    by = {i["name"]: i for i in r.json["integrations"]}
    assert by["uni"]["has_secret"] and by["sp"]["inbox"] == {"processed": 1}
    assert not any("token" in k for i in r.json["integrations"] for k in i)


def test_a_failure_after_the_inbox_write_still_answers_2xx_and_the_sweep_finishes(hooks_sqlite, monkeypatch):
    from auditor.integrations import services as svc
    from auditor.integrations.tasks import sweep

    h = hooks_sqlite
    real = svc.ingest
    monkeypatch.setattr(svc, "ingest", lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("disk full")))
    r = h.post("sendgrid", fixture_bytes("sendgrid.json"))
    assert r.status_code == 200 and r.json["state"] == "received"  # durable: the provider must not retry
    assert h.gate()["boris@example.org"] == "allowed"
    monkeypatch.setattr(svc, "ingest", real)
    assert sweep(h.loop.app) == {"processed": 1}
    assert h.gate() == EXPECTED
    assert sweep(h.loop.app) == {}  # nothing left


def test_a_provider_retry_of_a_failed_entry_processes_it(hooks_sqlite, monkeypatch):
    from auditor.integrations import services as svc

    h = hooks_sqlite
    real = svc.ingest
    monkeypatch.setattr(svc, "ingest", lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("disk full")))
    body = fixture_bytes("sendpulse.json")
    assert h.post("sendpulse", body).json["state"] == "received"
    monkeypatch.setattr(svc, "ingest", real)
    r = h.post("sendpulse", body)  # SendPulse retries the same batch
    assert r.json["duplicate"] is True and r.json["state"] == "processed"
    assert h.gate() == EXPECTED and len(h.withdrawals("boris@example.org")) == 1
    assert h.post("sendpulse", body).json["state"] == "processed"  # a later retry changes nothing
    assert len(h.withdrawals("boris@example.org")) == 1


def test_an_unsubscribe_stamped_ahead_of_our_clock_is_recorded_now(hooks_sqlite):
    import time

    h = hooks_sqlite
    ahead = int(time.time()) + 3600  # the ESP's clock runs an hour fast
    body = json.dumps([{"email": "boris@example.org", "timestamp": ahead, "event": "unsubscribe",
                        "sg_event_id": "fast-clock-1", "sg_message_id": "m1.filter0001"}]).encode()
    r = h.post("sendgrid", body)
    assert r.status_code == 200 and r.json["withdrawn"] == 1, r.get_data(as_text=True)
    (w,) = h.withdrawals("boris@example.org")
    assert w["claimed_at"] <= w["recorded_at"] and str(ahead) not in w["claimed_at"]
    assert h.gate()["boris@example.org"] == "CONSENT-WITHDRAWN"


# Awkward addresses as providers send them, and what Auditor has always stored of them: the keyed
# pseudonym and the SHA-256 of the normalised form (lower case, IDNA domain, plus tag kept, no spaces).
AWKWARD = [("  Anna.Smith+Promo@Example.ORG ", "unsubscribe", "anna.smith+promo@example.org"),
           ("boris@Пример.РФ", "spamreport", "boris@xn--e1afmkfd.xn--p1ai"),
           ("ГЛЕБ+x@почта.рф", "bounce", "глеб+x@xn--80a1acny.xn--p1ai"),
           ("\tDina@EXAMPLE.org\n", "bounce", "dina@example.org"),
           (" anna.smith+promo@example.org", "delivered", "anna.smith+promo@example.org"),
           ("Straße@Bücher.example", "open", "straße@xn--bcher-kva.example"),
           ("not-an-address", "delivered", None)]


def test_awkward_addresses_keep_their_pseudonyms_and_suppressions(hooks):
    import hashlib
    import hmac

    from auditor.services import services

    key = services(hooks.loop.app).ledger_key

    def pseudonym(normalised: str) -> str:
        return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()

    def sha(normalised: str) -> str:
        return hashlib.sha256(normalised.encode()).hexdigest()

    body = json.dumps([{"email": raw, "event": name, "timestamp": 1795424400 + i, "sg_event_id": f"awk{i}",
                        **({"type": "bounce", "reason": "550 5.1.1 no such user"} if name == "bounce" else {})}
                       for i, (raw, name, _norm) in enumerate(AWKWARD)]).encode()
    r = hooks.post("sendgrid", body)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert (r.json["events"], r.json["withdrawn"], r.json["hard_bounces"], r.json["invalid"]) == (7, 2, 2, 1)
    with hooks.loop.app.extensions["auditor"].engine.connect() as c:
        stored = {eid: (p, d) for eid, p, d in c.execute(sa.text(
            "SELECT provider_event_id, recipient_pseudonym, recipient_sha256 FROM delivery_events"))}
        bounced = set(c.execute(sa.text(
            "SELECT pseudonym, recipient_sha256, provider_event_id FROM bounce_suppressions")))
    assert stored == {f"awk{i}": (pseudonym(norm), sha(norm)) for i, (_raw, _name, norm) in enumerate(AWKWARD) if norm}
    assert bounced == {(pseudonym("глеб+x@xn--80a1acny.xn--p1ai"), sha("глеб+x@xn--80a1acny.xn--p1ai"), "awk2"),
                       (pseudonym("dina@example.org"), sha("dina@example.org"), "awk3")}
    r = hooks.client.get("/api/v1/suppressions?format=jsonl", headers=hooks.loop.h("sender"))
    rows = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    got = {(g.get("recipient") or g["recipient_sha256"], g["reason"]) for g in rows}
    assert got == {("anna.smith+promo@example.org", "withdrawn"), ("boris@xn--e1afmkfd.xn--p1ai", "complaint"),
                   (sha("глеб+x@xn--80a1acny.xn--p1ai"), "hard_bounce"), (sha("dina@example.org"), "hard_bounce")}
