"""The ledger's JSON API: record consent, read a subject, checkpoints, proofs, erasure."""

from __future__ import annotations

import pytest

from consent_ledger import verify_consistency, verify_inclusion

EVENT = {"type": "granted", "subject": "Api.User@Example.org", "channel": "email", "purpose": "marketing",
         "jurisdiction": "RU", "legal_basis": "consent", "method": "web_form",
         "evidence": {"source_url": "https://shop.example/f", "ip": "192.0.2.7", "notice_version": "v1",
                      "notice_sha256": "c" * 64, "separate_document": True, "pre_ticked": False},
         "claimed_at": "2026-11-01T10:00:00+03:00"}


@pytest.fixture
def sender(make_user):
    return {"Authorization": f"Bearer {make_user('crm@shop.example', 'sender', scopes=['consent:write', 'consent:read'])[1]}"}


@pytest.fixture
def legal(make_user):
    return {"Authorization": f"Bearer {make_user('dpo@shop.example', 'legal', scopes=['consent:read', 'ledger:read'])[1]}"}


@pytest.fixture
def admin(make_user):
    return {"Authorization": f"Bearer {make_user('root@shop.example', 'admin', scopes=['consent:erase'])[1]}"}


def test_record_one_event_and_read_the_subject(client, sender, legal):
    r = client.post("/api/v1/consents", json=EVENT, headers=sender)
    assert r.status_code == 201, r.json
    assert r.json["seqs"] == [1]
    r = client.get("/api/v1/consents/api.user@example.org", headers=legal)
    assert r.status_code == 200
    assert r.json["states"][0]["status"] == "granted" and r.json["states"][0]["evidence_complete"] is True
    assert r.json["history"][0]["claimed_at"] == "2026-11-01T07:00:00.000000Z"
    assert r.json["states"][0]["granted_at"] == "2026-11-01T07:00:00+00:00"
    assert client.get(f"/api/v1/consents/{r.json['pseudonym']}", headers=legal).json["history"][0]["seq"] == 1


def test_batch_is_atomic_and_errors_are_numbered_by_index(client, sender):
    good = {**EVENT, "subject": "b1@example.org"}
    bad = {**EVENT, "subject": "nobody"}
    r = client.post("/api/v1/consents", json={"events": [good, bad, {**good, "channel": "fax"}]}, headers=sender)
    assert r.status_code == 422
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert [(e["index"], e["loc"]) for e in r.json["errors"]] == [(1, "events.1.subject"), (2, "events.2.channel")]
    r = client.post("/api/v1/consents", json={"events": [good, {**good, "subject": "b2@example.org"}]}, headers=sender)
    assert r.status_code == 201 and r.json["seqs"] == [1, 2]


def test_schema_errors_and_unknown_fields_are_refused(client, sender):
    r = client.post("/api/v1/consents", json={**EVENT, "colour": "red"}, headers=sender)
    assert r.status_code == 422
    r = client.post("/api/v1/consents", json={"events": [{**EVENT, "type": "sent"}]}, headers=sender)
    assert r.status_code == 422 and "events" in str(r.json["errors"])


def test_scopes_are_enforced(client, sender, legal):
    assert client.post("/api/v1/consents", json=EVENT).status_code == 401
    assert client.post("/api/v1/consents", json=EVENT, headers=legal).status_code == 403
    assert client.get("/api/v1/ledger/checkpoint", headers=sender).status_code == 403
    assert client.post("/api/v1/ledger/erase", json={"subject": "x@example.org"}, headers=sender).status_code == 403


def test_unknown_subject_is_404(client, legal):
    assert client.get("/api/v1/consents/nobody@example.org", headers=legal).status_code == 404
    assert client.get("/api/v1/consents/not-an-address", headers=legal).status_code == 422


def test_checkpoint_and_proofs_verify_offline(client, app, sender, legal):
    for i in range(6):
        assert client.post("/api/v1/consents", json={**EVENT, "subject": f"c{i}@example.org"}, headers=sender).status_code == 201
    cp = client.get("/api/v1/ledger/checkpoint", headers=legal).json
    assert set(cp) == {"size", "root", "time", "key_id", "signature"}
    proof = client.get("/api/v1/ledger/proof/inclusion?seq=4", headers=legal).json
    pem = app.extensions["auditor"].public_key_pem
    verify_inclusion(proof, pem)
    assert proof["tree_size"] == 6
    old = client.get("/api/v1/ledger/proof/inclusion?seq=2&size=3", headers=legal).json
    verify_inclusion(old, pem)
    cons = client.get("/api/v1/ledger/proof/consistency?first=3&second=6", headers=legal).json
    verify_consistency(cons)
    assert cons["first_root"] == old["checkpoint"]["root"]
    assert client.get("/api/v1/ledger/proof/inclusion?seq=99", headers=legal).status_code == 404
    assert client.get("/api/v1/ledger/proof/inclusion?seq=x", headers=legal).status_code == 422
    assert client.get("/api/v1/ledger/proof/consistency?first=5&second=2", headers=legal).status_code == 422


def test_erase_via_api(client, app, sender, admin, legal):
    client.post("/api/v1/consents", json=EVENT, headers=sender)
    r = client.post("/api/v1/ledger/erase", json={"subject": "api.user@example.org", "reason": "art. 17"},
                    headers=admin)
    assert r.status_code == 201, r.json
    from auditor.ledger.services import get_ledger

    ledger = get_ledger(app)
    p = ledger.pseudonym_of("api.user@example.org")
    assert ledger.identity(p) is None
    states = client.get(f"/api/v1/consents/{p}", headers=legal).json["states"]
    assert states[0]["status"] == "erased"
    assert ledger.verify().ok


def test_openapi_documents_the_ledger_routes(client):
    doc = client.get("/api/openapi.json").json
    assert doc["paths"]["/api/v1/consents"]["post"]["x-scope"] == "consent:write"
    assert doc["paths"]["/api/v1/ledger/proof/inclusion"]["get"]["x-scope"] == "ledger:read"
    assert "ConsentsBody" in doc["components"]["schemas"]
