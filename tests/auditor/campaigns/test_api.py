"""Submitting campaigns through the API: findings per law pack, bad input, nothing half-written."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from auditor.campaigns.models import Campaign
from tests.auditor.campaigns.loop import DOMAIN, build_loop, campaign_doc, signed_message


def _ids(body: dict) -> set[str]:
    return {f["rule_id"] for f in body["findings"]}


def _count_campaigns(app) -> int:
    with app.extensions["auditor"].sessions() as s:
        return s.scalar(select(func.count()).select_from(Campaign))


def test_clean_campaign_needs_review_with_consent_coverage(loop):
    loop.consented("anna@example.org")
    loop.consent("boris@example.org", "granted")
    loop.consent("boris@example.org", "withdrawn")
    r = loop.submit(campaign_doc(["anna@example.org", "boris@example.org", "nobody@example.org", "not an address"]))
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.json
    assert body["status"] == "needs_review"
    assert not [f for f in body["findings"] if f["severity"] != "info"], body["findings"]
    assert body["consent"]["allowed"] == 1 and body["consent"]["suppressed"] == 3
    reasons = body["consent"]["reasons"]
    assert reasons["CONSENT-WITHDRAWN"] == 1 and reasons["CONSENT-NONE"] == 2
    assert body["approval"] is None and len(body["content_sha256"]) == 64


@pytest.mark.parametrize(("pack", "over", "expected"), [
    ("RU", {"jurisdictions": ["RU"], "message": {"raw": signed_message(
        text="Our offers.\nUnsubscribe: https://shop.example/unsubscribe/abc\n",
        html='<p>Our offers.</p><a href="https://shop.example/unsubscribe/abc">Unsubscribe</a>')}},
     "RU-38FZ-18.1-MARKING"),
    ("US", {"jurisdictions": ["US"], "sender": {"from": f"Shop News <news@{DOMAIN}>", "domain": DOMAIN,
                                                 "dkim_selectors": ["s1"], "legal_name": "Shop Inc"}},
     "US-CANSPAM-ADDRESS"),
    ("CA", {"jurisdictions": ["CA"], "sender": {"from": f"Shop News <news@{DOMAIN}>", "domain": DOMAIN,
                                                 "dkim_selectors": ["s1"]}},
     "CA-CASL-IDENTIFICATION"),
    ("bulk", {"message": {"raw": signed_message(sign=False)}}, "BULK-AUTH"),
])
def test_each_law_pack_reports_its_findings(loop, pack, over, expected):
    r = loop.submit(campaign_doc(["anna@example.org"], **over))
    assert r.status_code == 201, r.get_data(as_text=True)
    found = [f for f in r.json["findings"] if f["rule_id"] == expected]
    assert found, (pack, _ids(r.json))
    assert found[0]["citation"] and found[0]["title"]
    if found[0]["severity"] == "block":
        assert r.json["status"] == "blocked"


def test_eu_pack_counts_recipients_without_consent(loop):
    loop.consented("anna@example.org")
    r = loop.submit(campaign_doc(["anna@example.org", "emil@example.de"], jurisdictions=["EU"]))
    assert r.status_code == 201
    assert r.json["consent"]["reasons"].get("EU-EPRIVACY-13-CONSENT") == 1, r.json["consent"]
    assert r.json["consent"]["allowed"] == 1


def test_unknown_fields_are_refused_at_any_level(loop):
    doc = campaign_doc(["anna@example.org"])
    doc["colour"] = "red"
    r = loop.submit(doc)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert any(e["loc"] == "colour" for e in r.json["errors"])
    doc = campaign_doc(["anna@example.org"])
    doc["sender"]["nickname"] = "x"
    r = loop.submit(doc)
    assert r.status_code == 422 and any(e["loc"] == "sender.nickname" for e in r.json["errors"])
    assert _count_campaigns(loop.app) == 0


@pytest.mark.parametrize("raw", [
    "just some words, no header section\n\nand a body",
    "From: a@shop.example\r\nContent-Type: multipart/alternative\r\n\r\nno boundary at all",
    'From: a@shop.example\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\nno parts here\r\n',
])
def test_malformed_mime_is_a_problem_and_nothing_is_stored(loop, raw):
    r = loop.submit(campaign_doc(["anna@example.org"], message={"raw": raw}))
    assert r.status_code == 422 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    assert r.json["title"] == "Malformed message" and r.json["errors"]
    assert _count_campaigns(loop.app) == 0


def test_oversized_body_is_413_problem(make_app, make_user, dns_server):
    loop = build_loop(make_app, make_user, dns_server, max_body_bytes=4096)
    r = loop.submit(campaign_doc([f"user{i}@example.org" for i in range(400)]))
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    assert "4096" in r.json["detail"]
    assert _count_campaigns(loop.app) == 0


def test_raw_and_parts_together_are_refused(loop):
    r = loop.submit(campaign_doc(["anna@example.org"], message={"raw": signed_message(), "subject": "x"}))
    assert r.status_code == 422 and "not both" in r.json["errors"][0]["msg"]


def test_campaign_needs_scope_and_key(loop):
    assert loop.client.post("/api/v1/campaigns", json=campaign_doc([])).status_code == 401
    r = loop.client.post("/api/v1/campaigns", json=campaign_doc([]), headers=loop.h("legal"))
    assert r.status_code == 403 and "campaign:submit" in r.json["detail"]


def test_recipients_are_not_stored_in_clear(loop):
    r = loop.submit(campaign_doc(["secret.person@example.org"]))
    assert r.status_code == 201
    with loop.app.extensions["auditor"].sessions() as s:
        c = s.get(Campaign, r.json["id"])
        assert "secret.person" not in json.dumps(c.document) and c.recipient_count == 1


def test_content_hash_is_the_canonical_json_of_the_message(loop):
    import hashlib

    import rfc8785

    doc = campaign_doc([])
    r = loop.submit(doc)
    assert r.json["content_sha256"] == hashlib.sha256(rfc8785.dumps(doc["message"])).hexdigest()


def test_reported_stats_feed_the_bulk_rules_and_bad_ones_are_refused(loop):
    loop.consented("anna@example.org")
    quiet = loop.submit(campaign_doc(["anna@example.org"], stats={"spam_rate": 0.0005}))
    assert quiet.status_code == 201 and not {"BULK-SPAM-RATE", "BULK-UNSUBSCRIBE-LATENCY"} & _ids(quiet.json)
    r = loop.submit(campaign_doc(["anna@example.org"], stats={"spam_rate": 0.004, "unsubscribe_latency_hours": 72}))
    assert r.status_code == 201, r.get_data(as_text=True)
    by_id = {f["rule_id"]: f for f in r.json["findings"]}
    assert by_id["BULK-SPAM-RATE"]["severity"] == "block" and r.json["status"] == "blocked"
    assert by_id["BULK-UNSUBSCRIBE-LATENCY"]["severity"] == "warn"
    assert "72 hours" in by_id["BULK-UNSUBSCRIBE-LATENCY"]["detail"]
    bad = loop.submit(campaign_doc(["anna@example.org"], stats={"spam_rate": 3}))
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_findings_in_russian_with_lang_or_accept_language_rule_ids_unchanged(loop):
    from checks.catalogue import RULES, cite
    from checks.i18n import detail_of

    doc = campaign_doc(["anna@example.org"])
    del doc["message"]["ad_marking"]  # an advert without its marking: a law finding with a detail
    r = loop.client.post("/api/v1/campaigns?lang=ru", json=doc, headers=loop.h("sender"))
    assert r.status_code == 201, r.get_data(as_text=True)
    cid, ru = r.json["id"], r.json["findings"]
    en = loop.client.get(f"/api/v1/campaigns/{cid}", headers=loop.h("sender")).json["findings"]
    assert [f["rule_id"] for f in ru] == [f["rule_id"] for f in en] and len(en) >= 2
    assert all("lang" not in f for f in en)  # no language asked: as stored, English
    for stored, f in zip(en, ru, strict=True):
        rule = RULES[stored["rule_id"]]
        assert (f["lang"], f["severity"], f["evidence"]) == ("ru", stored["severity"], stored["evidence"])
        assert f["title"] == rule.title("ru") and stored["title"] == rule.title("en")
        assert f["citation"] == cite(stored["citation"], "ru") and f["remedy"] == rule.fix("ru")
        assert f["detail"] == detail_of(stored, "ru")
    # at least one title, citation and detail really read differently in Russian
    assert any(f["title"] != s["title"] for f, s in zip(ru, en, strict=True))
    assert any(f["citation"] != s["citation"] for f, s in zip(ru, en, strict=True))
    assert any(f["detail"] != s["detail"] and f["detail"] for f, s in zip(ru, en, strict=True))
    by_header = loop.client.get(f"/api/v1/campaigns/{cid}",
                                headers={**loop.h("sender"), "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert by_header.json["findings"] == ru
    explicit_en = loop.client.get(f"/api/v1/campaigns/{cid}?lang=en",
                                  headers={**loop.h("sender"), "Accept-Language": "ru"}).json["findings"]
    assert [f["title"] for f in explicit_en] == [f["title"] for f in en] and explicit_en[0]["lang"] == "en"
    bad = loop.client.get(f"/api/v1/campaigns/{cid}?lang=de", headers=loop.h("sender"))
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["errors"][0]["loc"] == "lang"
