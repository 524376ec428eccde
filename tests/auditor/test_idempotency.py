"""Idempotency-Key holds under concurrency: one claim runs, the others get 409 or the stored answer."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from auditor.db import utcnow
from auditor.idempotency import IdempotentResponse

EVENT = {"type": "granted", "subject": "same.key@example.org", "channel": "email", "purpose": "marketing",
         "jurisdiction": "RU", "legal_basis": "consent", "method": "web_form",
         "evidence": {"source_url": "https://shop.example/f", "ip": "192.0.2.7", "notice_version": "v1",
                      "notice_sha256": "c" * 64, "separate_document": True, "pre_ticked": False},
         "claimed_at": "2026-11-01T10:00:00+03:00"}


def _events(app) -> int:
    from auditor.ledger.services import get_ledger

    with app.app_context():
        return get_ledger(app).size()


def _rows(app) -> list[IdempotentResponse]:
    with app.extensions["auditor"].sessions() as s:
        return list(s.scalars(select(IdempotentResponse)))


def test_six_concurrent_posts_with_one_key_append_one_event(make_app, make_user, db_url):
    app = make_app(database_url=db_url)
    key = make_user("crm@shop.example", "sender", scopes=["consent:write"], target_app=app)[1]
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "order-42"}
    start = threading.Barrier(6)
    answers: list[tuple[int, str | None, dict]] = []

    def post() -> None:
        client = app.test_client()  # each thread: its own request, session and pooled connection
        start.wait()
        r = client.post("/api/v1/consents", json=EVENT, headers=headers)
        answers.append((r.status_code, r.headers.get("Idempotent-Replayed"), r.get_json(silent=True) or {}))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 6
    assert _events(app) == 1
    fresh = [a for a in answers if a[0] == 201 and a[1] is None]
    assert len(fresh) == 1, answers
    for status, replayed, body in answers:
        assert status in (201, 409), answers
        if status == 409:
            assert body["status"] == 409 and "still running" in body["detail"]
        elif replayed:
            assert body == fresh[0][2]
    # After the first finished, the same request gets the stored answer and appends nothing.
    r = app.test_client().post("/api/v1/consents", json=EVENT, headers=headers)
    assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true" and r.json == fresh[0][2]
    assert _events(app) == 1
    assert [row.status for row in _rows(app)] == [201]


def test_a_stale_claim_is_taken_over_and_a_failed_request_releases_its_claim(app, client, make_user):
    key = make_user("crm@shop.example", "sender", scopes=["consent:write"])[1]
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "k2"}
    bad = client.post("/api/v1/consents", json={**EVENT, "subject": "nobody"}, headers=headers)
    assert bad.status_code == 422
    assert _rows(app) == []  # released: the corrected request may reuse the key
    ok = client.post("/api/v1/consents", json=EVENT, headers=headers)
    assert ok.status_code == 201 and "Idempotent-Replayed" not in ok.headers
    # A claim left pending by a dead worker blocks for STALE_AFTER, then the key runs again.
    with app.extensions["auditor"].sessions() as s, s.begin():
        s.execute(update(IdempotentResponse).values(status=0, body=""))
    busy = client.post("/api/v1/consents", json=EVENT, headers=headers)
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
    assert busy.headers["Content-Type"].startswith("application/problem+json")
    with app.extensions["auditor"].sessions() as s, s.begin():
        s.execute(update(IdempotentResponse).values(created_at=utcnow() - timedelta(minutes=6)))
    again = client.post("/api/v1/consents", json=EVENT, headers=headers)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert _events(app) == 2
    with app.extensions["auditor"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(IdempotentResponse)) == 1


def test_the_fingerprint_includes_the_query_string(app, client, make_user):
    key = make_user("crm@shop.example", "sender", scopes=["consent:write"])[1]
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "k3"}
    assert client.post("/api/v1/consents?x=1", json=EVENT, headers=headers).status_code == 201
    r = client.post("/api/v1/consents?x=2", json=EVENT, headers=headers)
    assert r.status_code == 422 and r.json["title"] == "Idempotency key reused"
    assert client.post("/api/v1/consents?x=1", json=EVENT, headers=headers).headers["Idempotent-Replayed"] == "true"


def test_a_replay_answers_in_the_language_of_the_retry_with_the_same_resource(make_app, make_user, dns_server,
                                                                             db_url):
    from checks.catalogue import RULES
    from tests.auditor.campaigns.loop import build_loop, campaign_doc

    loop = build_loop(make_app, make_user, dns_server, database_url=db_url)
    loop.consented("anna@example.org")
    doc = campaign_doc(["anna@example.org"])
    del doc["message"]["ad_marking"]  # an advert without its marking: a law finding with a detail
    key = {**loop.h("sender"), "Idempotency-Key": "promo-1"}
    first = loop.client.post("/api/v1/campaigns", json=doc, headers={**key, "Accept-Language": "ru"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers, first.get_data(as_text=True)
    cid, ru = first.json["id"], first.json["findings"]
    marking = next(f for f in ru if f["rule_id"] == "RU-38FZ-18.1-MARKING")
    assert marking["lang"] == "ru" and marking["title"] == RULES["RU-38FZ-18.1-MARKING"].title("ru")

    # the retry asks for English: the same campaign and status, its findings in English
    en = loop.client.post("/api/v1/campaigns", json=doc, headers={**key, "Accept-Language": "en"})
    assert en.status_code == 201 and en.headers["Idempotent-Replayed"] == "true"
    assert en.json["id"] == cid and en.json["status"] == first.json["status"]
    assert [f["rule_id"] for f in en.json["findings"]] == [f["rule_id"] for f in ru]
    marking_en = next(f for f in en.json["findings"] if f["rule_id"] == "RU-38FZ-18.1-MARKING")
    assert marking_en["lang"] == "en" and marking_en["title"] == RULES["RU-38FZ-18.1-MARKING"].title("en")
    assert marking_en["detail"] != marking["detail"]
    # ?lang= chooses the language as the header does; it is not a different request (no 422)
    by_query = loop.client.post("/api/v1/campaigns?lang=ru", json=doc, headers=key)
    assert by_query.status_code == 201 and by_query.headers["Idempotent-Replayed"] == "true"
    assert by_query.json == first.json  # the replay in Russian reads as the first answer did
    # no language asked: the stored form, findings as the campaign holds them (English, no "lang")
    plain = loop.client.post("/api/v1/campaigns", json=doc, headers=key)
    assert plain.json["id"] == cid and all("lang" not in f for f in plain.json["findings"])
    assert plain.json == loop.client.get(f"/api/v1/campaigns/{cid}", headers=loop.h("sender")).json
    # one campaign, one stored answer, in the neutral form
    with loop.app.extensions["auditor"].sessions() as s:
        (row,) = s.scalars(select(IdempotentResponse)).all()
    assert '"lang"' not in row.body and RULES["RU-38FZ-18.1-MARKING"].title("en") in row.body
    listed = loop.client.get("/api/v1/campaigns", headers=loop.h("sender")).json["campaigns"]
    assert [c["id"] for c in listed] == [cid]
    # another body under the key is still refused, whatever the language
    other = loop.client.post("/api/v1/campaigns?lang=en", json={**doc, "name": "Other"}, headers=key)
    assert other.status_code == 422 and other.json["title"] == "Idempotency key reused"
