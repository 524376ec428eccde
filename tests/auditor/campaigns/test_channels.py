"""Channels judged by their own rules: SMS and messenger campaigns through the API, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auditor.campaigns.loop import DOMAIN, Loop, build_loop

EMAIL_ONLY = {"MSG-HEADER-INVALID", "MSG-DKIM-UNSIGNED", "MSG-DKIM-FAIL", "MSG-NOT-ALIGNED",
              "MSG-LIST-UNSUBSCRIBE-MISSING", "MSG-ONE-CLICK-MISSING", "MSG-SIZE-CLIPPED", "MSG-NO-TEXT-PART",
              "BULK-AUTH", "BULK-DMARC", "BULK-ONE-CLICK", "BULK-UNSUBSCRIBE-LATENCY", "BULK-SPAM-RATE"}
MOSCOW_MOBILE = "+79161234567"
SPB_MOBILE = "+79213456789"


@pytest.fixture
def loop_db(make_app, make_user, dns_server, db_url) -> Loop:
    """The whole loop on SQLite and on PostgreSQL."""
    return build_loop(make_app, make_user, dns_server, database_url=db_url)


def sms_doc(recipients: list[str], **over: Any) -> dict[str, Any]:
    """A compliant Russian advertising SMS: sender name, advertiser, the usual opt-out line."""
    doc: dict[str, Any] = {
        "name": "December SMS", "channel": "sms", "purpose": "marketing", "advertising": True,
        "jurisdictions": ["RU"],
        "sender": {"sms_sender_name": "SHOP", "legal_name": "OOO Shop", "website": f"https://{DOMAIN}",
                   "processing_country": "RU"},
        "message": {"text": f"Скидка 20% до 5 декабря. OOO Shop. Отказ: {DOMAIN}/stop"},
        "recipients": recipients,
    }
    doc.update(over)
    return doc


def sms_consent(loop: Loop, number: str) -> None:
    """An SMS advertising consent, granted and confirmed."""
    loop.consent(number, "granted", channel="sms")
    loop.consent(number, "confirmed", channel="sms")


def _ids(body: dict) -> set[str]:
    return {f["rule_id"] for f in body["findings"]}


def test_compliant_sms_is_not_blocked_by_email_rules(loop_db):
    sms_consent(loop_db, MOSCOW_MOBILE)
    r = loop_db.submit(sms_doc([MOSCOW_MOBILE, SPB_MOBILE]))
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.json
    assert body["status"] == "needs_review", body["findings"]
    assert not _ids(body) & EMAIL_ONLY, body["findings"]
    assert not [f for f in body["findings"] if f["severity"] == "block"], body["findings"]
    assert body["consent"]["allowed"] == 1 and body["consent"]["suppressed"] == 1, body["consent"]


def test_sms_without_opt_out_is_blocked_on_the_text_rule_only(loop_db):
    r = loop_db.submit(sms_doc([MOSCOW_MOBILE], message={"text": "Скидка 20% до 5 декабря. OOO Shop."}))
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["status"] == "blocked"
    assert "MSG-UNSUBSCRIBE-LINK-MISSING" in _ids(r.json) and not _ids(r.json) & EMAIL_ONLY


def test_sms_with_email_sender_fields_still_skips_email_rules(loop_db):
    doc = sms_doc([MOSCOW_MOBILE])
    doc["sender"].update({"from": f"Shop <news@{DOMAIN}>", "domain": DOMAIN})
    r = loop_db.submit(doc)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert not _ids(r.json) & EMAIL_ONLY, r.json["findings"]


@pytest.mark.parametrize(("channel", "sender", "message", "needs"), [
    ("sms", {"legal_name": "OOO Shop"}, {"text": "Скидка. Отказ: shop.example/stop"}, "sender.sms_sender_name"),
    ("sms", {"sms_sender_name": "SHOP"}, {"raw": "From: a@shop.example\r\n\r\nhi"}, "message.raw"),
    ("sms", {"sms_sender_name": "SHOP"}, {"html": "<p>hi</p>"}, "message.html"),
    ("sms", {"sms_sender_name": "SHOP"}, {"subject": "hi"}, "message.text"),
    ("email", {"domain": DOMAIN}, {"text": "hi"}, "sender.from"),
    ("email", {"from": f"news@{DOMAIN}"}, {"text": "hi"}, "sender.domain"),
    ("voice", {"legal_name": "OOO Shop"}, {"text": "script"}, "sender.phone"),
    ("messenger:telegram", {}, {"subject": "hi"}, "message.text or message.html"),
])
def test_required_fields_depend_on_the_channel(loop, channel, sender, message, needs):
    r = loop.submit(sms_doc([MOSCOW_MOBILE], channel=channel, sender=sender, message=message))
    assert r.status_code == 422 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    assert any(needs in e["msg"] for e in r.json["errors"]), r.json["errors"]


def test_messenger_campaign_needs_no_email_sender(loop):
    doc = sms_doc(["+79161234567"], channel="messenger:telegram", sender={"legal_name": "OOO Shop"},
                  message={"text": f"Реклама. OOO Shop, {DOMAIN}. Скидка 20%. Отписаться: https://{DOMAIN}/u",
                           "ad_marking": {"label": "Реклама", "erid": "2Vtzqx1abcd"}})
    r = loop.submit(doc)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert not _ids(r.json) & (EMAIL_ONLY | {"MSG-UNSUBSCRIBE-LINK-MISSING", "RU-126FZ-44.1-SENDER"}), r.json
    assert "RU-38FZ-18.1-MARKING" not in _ids(r.json), r.json["findings"]


@pytest.mark.parametrize(("name", "hit"), [("SHOP", False), ("Магазин", True), ("A-VERY-LONG-NAME", True)])
def test_sms_sender_name_form(loop, name, hit):
    doc = sms_doc([MOSCOW_MOBILE])
    doc["sender"]["sms_sender_name"] = name
    r = loop.submit(doc)
    assert r.status_code == 201, r.get_data(as_text=True)
    found = [f for f in r.json["findings"] if f["rule_id"] == "RU-126FZ-44.1-SENDER"]
    assert bool(found) is hit and all(f["severity"] == "warn" for f in found)


def test_quiet_hours_of_a_moscow_mobile_say_the_zone_is_unknown(loop_db):
    r = loop_db.submit(sms_doc([MOSCOW_MOBILE, "+74951234567"], scheduled_at="2026-12-01T22:30:00+03:00"))
    assert r.status_code == 201, r.get_data(as_text=True)
    found = {f["severity"]: f for f in r.json["findings"] if f["rule_id"] == "SMS-QUIET-HOURS"}
    assert set(found) == {"warn", "info"}, r.json["findings"]
    assert found["warn"]["evidence"]["outside"] == {"Europe/Moscow": 1}
    assert "Almaty" not in str(found) and found["info"]["evidence"]["unknown"] == 1
    # 07:30 UTC is within the window in every zone the +7 mobile list holds (Bucharest 09:30 .. Anadyr 19:30)
    r = loop_db.submit(sms_doc([MOSCOW_MOBILE, "+74951234567"], scheduled_at="2026-12-01T10:30:00+03:00"))
    assert not [f for f in r.json["findings"] if f["rule_id"] == "SMS-QUIET-HOURS"], r.json["findings"]


# --- evidence flags as the ledger's bulk read returns them (SQLite: 0/1) ----------------------

def _evidence(**flags: bool) -> dict[str, Any]:
    ev = {"source_url": f"https://{DOMAIN}/signup", "ip": "198.51.100.7", "user_agent": "Mozilla/5.0",
          "notice_version": "2025-09", "notice_sha256": "a" * 64, "separate_document": True,
          "pre_ticked": False, "bundled": False}
    ev.update(flags)
    return ev


def test_consent_recorded_as_not_a_separate_document_is_flagged(loop_db):
    from tests.auditor.campaigns.loop import campaign_doc

    for who, separate in (("anna@example.org", False), ("boris@example.org", True)):
        loop_db.consent(who, "granted", evidence=_evidence(separate_document=separate))
        loop_db.consent(who, "confirmed")
    r = loop_db.submit(campaign_doc(["anna@example.org", "boris@example.org"]))
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["consent"]["warnings"].get("RU-152FZ-9-SEPARATE") == 1, r.json["consent"]


@pytest.mark.parametrize("field", ["pre_ticked", "bundled"])
def test_pre_ticked_and_bundled_recorded_true_are_flagged_and_false_are_not(loop_db, field):
    from tests.auditor.campaigns.loop import campaign_doc

    for who, value in (("anna@example.org", True), ("boris@example.org", False)):
        loop_db.consent(who, "granted", evidence=_evidence(**{field: value}), jurisdiction="EU")
        loop_db.consent(who, "confirmed", jurisdiction="EU")
    r = loop_db.submit(campaign_doc(["anna@example.org", "boris@example.org"], jurisdictions=["EU"]))
    assert r.status_code == 201, r.get_data(as_text=True)
    c = r.json["consent"]
    assert c["warnings"].get("EU-GDPR-CONSENT-QUALITY", 0) + c["reasons"].get("EU-GDPR-CONSENT-QUALITY", 0) == 1, c


# --- citations name the campaign's jurisdictions only ---------------------------------------------

def test_consent_none_on_a_us_only_campaign_cites_no_foreign_law(loop_db):
    from tests.auditor.campaigns.loop import campaign_doc

    doc = campaign_doc(["nobody@example.org"], jurisdictions=["US"])
    r = loop_db.submit(doc)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["consent"]["reasons"]["CONSENT-NONE"] == 1
    cited = r.json["consent"]["citations"]["CONSENT-NONE"]
    assert not any(w in cited for w in ("38-FZ", "GDPR", "ePrivacy", "CASL")), cited
    again = loop_db.client.get(f"/api/v1/campaigns/{r.json['id']}", headers=loop_db.h("sender"))
    assert again.json["consent"]["citations"] == r.json["consent"]["citations"]
    ru = loop_db.submit(campaign_doc(["nobody@example.org"], jurisdictions=["RU", "CA"]))
    cited = ru.json["consent"]["citations"]["CONSENT-NONE"]
    assert "38-FZ art. 18 p. 1" in cited and "CASL s. 6" in cited and "GDPR" not in cited


def test_a_message_finding_cites_the_campaigns_law_only(loop_db):
    from tests.auditor.campaigns.loop import campaign_doc, signed_message

    raw = signed_message(text="Реклама. OOO Shop, shop.example. Our offers.\n",
                         html="<p>Реклама. OOO Shop, shop.example. Our offers.</p>")
    r = loop_db.submit(campaign_doc(["anna@example.org"], message={"raw": raw, "ad_marking": {
        "label": "Реклама", "erid": "2Vtzqx1abcd"}}))
    assert r.status_code == 201, r.get_data(as_text=True)
    found = [f for f in r.json["findings"] if f["rule_id"] == "MSG-UNSUBSCRIBE-LINK-MISSING"]
    assert found and found[0]["citation"] == "38-FZ art. 18", found


# --- the same from the command line -------------------------------------------------------------

def test_cli_checks_an_sms_by_its_own_rules_and_refuses_one_without_a_sender_name(loop, tmp_path):
    import json

    from tests.conftest import Runner

    path = tmp_path / "sms.json"
    path.write_text(json.dumps(sms_doc([MOSCOW_MOBILE], jurisdictions=["US"])), encoding="utf-8")
    result = Runner(loop.app).invoke(["check", "campaign", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert not {f["rule_id"] for f in out["findings"]} & EMAIL_ONLY, out["findings"]
    assert "TCPA" in out["consent"]["citations"]["CONSENT-NONE"], out["consent"]
    doc = sms_doc([MOSCOW_MOBILE])
    del doc["sender"]["sms_sender_name"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = Runner(loop.app).invoke(["check", "campaign", str(path)])
    assert result.exit_code == 2 and "sender.sms_sender_name" in result.output
