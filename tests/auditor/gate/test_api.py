"""The send gate through the API: token checks, consent now, unsubscribe headers per recipient."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785

from auditor.gate.tokens import issue_approval_token, verify_approval_token

PEOPLE = ["anna@example.org", "boris@example.org", "vera@example.org"]


@pytest.fixture
def approved(loop):
    """Anna and Boris consented, Vera never; a campaign to all three, approved by legal."""
    loop.consented("anna@example.org")
    loop.consented("boris@example.org")
    cid, token = loop.approved(PEOPLE)
    return loop, cid, token


def test_gate_allows_the_consented_and_suppresses_the_rest(approved):
    loop, cid, token = approved
    r = loop.gate(token, PEOPLE + ["Anna@Example.org", "not-an-address", ""])
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.json
    assert [a["recipient"] for a in body["allowed"]] == ["anna@example.org", "boris@example.org",
                                                         "Anna@Example.org"]
    suppressed = {s["recipient"]: s for s in body["suppressed"]}
    assert suppressed["vera@example.org"]["rule_id"] == "CONSENT-NONE"
    assert suppressed["not-an-address"]["rule_id"] and suppressed["not-an-address"]["reason"]
    assert "" in suppressed
    first = body["allowed"][0]
    assert first["unsubscribe_url"].startswith("http://127.0.0.1:8000/u/")
    assert first["headers"] == {"List-Unsubscribe": f"<{first['unsubscribe_url']}>",
                                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert body["allowed"][1]["unsubscribe_url"] != first["unsubscribe_url"]
    assert "anna" not in first["unsubscribe_url"]
    assert body["ledger_size"] >= 4 and body["campaign_id"] == cid
    assert datetime.fromisoformat(body["checked_at"]).tzinfo is not None


def test_unsubscribe_after_approval_is_suppressed_at_gate(approved):
    loop, _cid, token = approved
    loop.consent("boris@example.org", "withdrawn", method="reply")
    body = loop.gate(token, PEOPLE).json
    assert [a["recipient"] for a in body["allowed"]] == ["anna@example.org"]
    assert {s["recipient"]: s["rule_id"] for s in body["suppressed"]}["boris@example.org"] == "CONSENT-WITHDRAWN"


def test_idempotency_key_never_replays_a_stale_gate_answer(approved):
    loop, _cid, token = approved
    h = {**loop.h("sender"), "Idempotency-Key": "batch-1"}
    payload = {"approval_token": token, "recipients": ["boris@example.org"]}
    first = loop.client.post("/api/v1/gate/check", json=payload, headers=h).json
    assert len(first["allowed"]) == 1
    loop.consent("boris@example.org", "withdrawn")
    again = loop.client.post("/api/v1/gate/check", json=payload, headers=h)
    assert "Idempotent-Replayed" not in again.headers and again.json["allowed"] == []


def _refused(r, words: str) -> None:
    assert r.status_code == 403, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    assert words in r.json["detail"] and r.json["errors"]


def test_forged_and_altered_tokens_are_403(approved):
    loop, _cid, token = approved
    prefix, payload, sig = token.split(".")
    _refused(loop.gate(f"{prefix}.{payload}.{sig[:-4]}AAAA", PEOPLE), "signature")
    _refused(loop.gate(f"{prefix}.{payload[:-2]}xx.{sig}", PEOPLE), "signature")
    _refused(loop.gate("apv1.garbage", PEOPLE), "malformed")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    svc = loop.app.extensions["auditor"]
    claims = verify_approval_token(svc.signing_key.public_key(), token)
    stranger = issue_approval_token(Ed25519PrivateKey.generate(), token_id=claims.token_id,
                                    campaign_id=claims.campaign_id, content_sha256=claims.content_sha256,
                                    issued_at=claims.issued_at, expires_at=claims.expires_at)
    _refused(loop.gate(stranger, PEOPLE), "signature")


def test_expired_token_is_403(approved):
    loop, _cid, token = approved
    svc = loop.app.extensions["auditor"]
    c = verify_approval_token(svc.signing_key.public_key(), token)
    old = datetime.now(UTC) - timedelta(hours=100)
    expired = issue_approval_token(svc.signing_key, token_id=c.token_id, campaign_id=c.campaign_id,
                                   content_sha256=c.content_sha256, issued_at=old,
                                   expires_at=old + timedelta(hours=72))
    _refused(loop.gate(expired, PEOPLE), "expired")


def test_token_for_other_content_or_unknown_id_is_403(approved):
    loop, _cid, token = approved
    svc = loop.app.extensions["auditor"]
    c = verify_approval_token(svc.signing_key.public_key(), token)
    other = issue_approval_token(svc.signing_key, token_id=c.token_id, campaign_id=c.campaign_id,
                                 content_sha256="00" * 32, issued_at=c.issued_at, expires_at=c.expires_at)
    _refused(loop.gate(other, PEOPLE), "content")
    unknown = issue_approval_token(svc.signing_key, token_id="f" * 32, campaign_id=c.campaign_id,
                                   content_sha256=c.content_sha256, issued_at=c.issued_at,
                                   expires_at=c.expires_at)
    _refused(loop.gate(unknown, PEOPLE), "not issued")


def test_message_hash_must_match_the_approved_content(approved):
    loop, _cid, token = approved
    good = hashlib.sha256(rfc8785.dumps(loop.last_doc["message"])).hexdigest()
    assert loop.gate(token, PEOPLE, message_sha256=good).status_code == 200
    _refused(loop.gate(token, PEOPLE, message_sha256="ab" * 32), "message_sha256")


def test_revoked_token_is_403(approved):
    loop, cid, token = approved
    r = loop.client.post(f"/api/v1/campaigns/{cid}/approval/revoke", json={"reason": "bought list"},
                         headers=loop.h("legal"))
    assert r.status_code == 200
    _refused(loop.gate(token, PEOPLE), "revoked")


def test_gate_bad_bodies_are_problems(approved):
    loop, _cid, token = approved
    r = loop.client.post("/api/v1/gate/check", json={"approval_token": token, "recipients": PEOPLE,
                                                     "extra": 1}, headers=loop.h("sender"))
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    r = loop.client.post("/api/v1/gate/check", json={"approval_token": token, "recipients": [1, None]},
                         headers=loop.h("sender"))
    assert r.status_code == 422
    r = loop.client.post("/api/v1/gate/check", json={"approval_token": token, "recipients": PEOPLE},
                         headers=loop.h("legal"))
    assert r.status_code == 403 and "gate:check" in r.json["detail"]


def test_gate_against_a_real_server(approved):
    """The same check over a socket to a waitress server, as a sender's MTA would call it."""
    from waitress.server import create_server

    loop, _cid, token = approved
    server = create_server(loop.app, host="127.0.0.1", port=0, threads=4)
    closing = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except (OSError, ValueError):  # the loop notices its sockets closed under it
            if not closing.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.effective_port}"

        def post(path: str, data: bytes, ctype: str, auth: bool = True):
            req = urllib.request.Request(base + path, data=data, method="POST",
                                         headers={"Content-Type": ctype, **(loop.h("sender") if auth else {})})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read()

        status, raw = post("/api/v1/gate/check", json.dumps({"approval_token": token,
                           "recipients": PEOPLE}).encode(), "application/json")
        body = json.loads(raw)
        assert status == 200 and len(body["allowed"]) == 2
        url = body["allowed"][1]["unsubscribe_url"]
        status, _ = post(url.removeprefix("http://127.0.0.1:8000"), b"List-Unsubscribe=One-Click",
                         "application/x-www-form-urlencoded", auth=False)
        assert status == 200
        status, raw = post("/api/v1/gate/check", json.dumps({"approval_token": token,
                           "recipients": PEOPLE}).encode(), "application/json")
        assert [a["recipient"] for a in json.loads(raw)["allowed"]] == ["anna@example.org"]
        status, raw = post("/api/v1/gate/check", json.dumps({"approval_token": token + "x",
                           "recipients": PEOPLE}).encode(), "application/json")
        assert status == 403 and json.loads(raw)["status"] == 403
    finally:
        closing.set()
        server.close()
        thread.join(timeout=5)


def test_whole_loop_on_postgresql(make_app, make_user, dns_server, pg_url):
    """Consent, approve, gate, one-click, gate again: the same on PostgreSQL."""
    from tests.auditor.campaigns.loop import build_loop

    loop = build_loop(make_app, make_user, dns_server, database_url=pg_url)
    loop.consented("anna@example.org")
    loop.consented("boris@example.org")
    _cid, token = loop.approved(PEOPLE)
    allowed = loop.gate(token, PEOPLE).json["allowed"]
    assert [a["recipient"] for a in allowed] == ["anna@example.org", "boris@example.org"]
    r = loop.client.post(allowed[0]["unsubscribe_url"].removeprefix("http://127.0.0.1:8000"),
                         data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    assert [a["recipient"] for a in loop.gate(token, PEOPLE).json["allowed"]] == ["boris@example.org"]
