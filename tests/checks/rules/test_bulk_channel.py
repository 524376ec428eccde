"""Bulk-sender rules and channel rules — each id both ways."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from checks.rules import Policy, SenderStats, evaluate_campaign
from checks.rules.channel import zones_of
from tests.checks.rules.conftest import NOW, campaign_ids, facts, posture, recipient_ids, report

BULK = {"BULK-AUTH", "BULK-DMARC", "BULK-ONE-CLICK", "BULK-UNSUBSCRIBE-LATENCY", "BULK-SPAM-RATE"}


def test_clean_bulk_campaign():
    assert not campaign_ids(facts()) & BULK


@pytest.mark.parametrize(("message", "post"), [
    (report(dkim=[]), ()),
    (report(dkim=[{"d": "esp.example", "s": "x", "ok": True, "covers": []}]), ()),
    (report(), ("SPF-MISSING",)),
    (report(), ("SPF-IP-NOT-AUTHORISED",)),
    (report(), ("DKIM-KEY-REVOKED",)),
])
def test_auth_needs_spf_and_dkim(message, post):
    assert "BULK-AUTH" in campaign_ids(facts(), message=message, posture_=posture(*post))


@pytest.mark.parametrize(("message", "post"), [(report(), ("DMARC-MISSING",)), (report(aligned=False), ())])
def test_dmarc(message, post):
    assert "BULK-DMARC" in campaign_ids(facts(), message=message, posture_=posture(*post))


def test_dmarc_policy_none_is_not_bulk_dmarc():
    assert "BULK-DMARC" not in campaign_ids(facts(), posture_=posture("DMARC-POLICY-NONE"))


def test_one_click():
    assert "BULK-ONE-CLICK" in campaign_ids(facts(), message=report(one_click=False))
    # with "unsubscribe": "auditor" the gate supplies per-recipient headers
    assert "BULK-ONE-CLICK" not in campaign_ids(facts(unsubscribe="auditor"), message=report(one_click=False))
    assert "BULK-ONE-CLICK" not in campaign_ids(facts(advertising=False, purpose="service"),
                                                message=report(one_click=False))


def test_unsubscribe_latency_when_measured():
    assert "BULK-UNSUBSCRIBE-LATENCY" in campaign_ids(facts(stats={"unsubscribe_latency_hours": 72}))
    assert "BULK-UNSUBSCRIBE-LATENCY" not in campaign_ids(facts(stats={"unsubscribe_latency_hours": 24}))


@pytest.mark.parametrize(("rate", "sev"), [(0.0005, None), (0.002, "warn"), (0.004, "block")])
def test_spam_rate_thresholds(rate, sev):
    f = facts(stats=SenderStats(spam_rate=rate).model_dump())
    found = [x for x in evaluate_campaign(f, message=report(), posture=posture(), policy=Policy(), now=NOW)
             if x.rule_id == "BULK-SPAM-RATE"]
    assert (found[0].severity if found else None) == sev


def test_spam_rate_thresholds_come_from_policy():
    f = facts(stats={"spam_rate": 0.002})
    strict = Policy(spam_rate={"warn": 0.0005, "block": 0.001})
    found = [x for x in evaluate_campaign(f, message=report(), posture=posture(), policy=strict, now=NOW)
             if x.rule_id == "BULK-SPAM-RATE"]
    assert found[0].severity == "block"


def test_bulk_rules_are_for_email():
    assert not campaign_ids(facts(channel="sms", sender={"sms_sender_name": "SHOP"}), message=None) & BULK


# --- channel rules ---------------------------------------------------------------------------

def sms(**over):
    base = {"channel": "sms", "sender": {"sms_sender_name": "SHOP"}, "recipients": ["+74951234567"]}
    return facts(**{**base, **over})


def test_moscow_number_has_one_zone():
    assert zones_of("+74951234567") == ("Europe/Moscow",) and zones_of("nonsense") == ()


def test_quiet_hours_by_recipient_zone():
    late_in_moscow = datetime(2026, 12, 1, 22, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    found = [x for x in evaluate_campaign(sms(scheduled_at=late_in_moscow), message=None, posture=None,
                                          policy=Policy(), now=NOW) if x.rule_id == "SMS-QUIET-HOURS"]
    assert found and found[0].severity == "warn" and found[0].evidence["outside"] == {"Europe/Moscow": 1}
    # the same instant is 20:30 in Berlin: inside the window
    berlin = sms(scheduled_at=late_in_moscow, recipients=["+4930123456"])
    assert "SMS-QUIET-HOURS" not in campaign_ids(berlin, message=None)


def test_quiet_hours_come_from_policy():
    at = datetime(2026, 12, 1, 20, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    assert "SMS-QUIET-HOURS" not in campaign_ids(sms(scheduled_at=at), message=None)
    assert "SMS-QUIET-HOURS" in campaign_ids(sms(scheduled_at=at), message=None, policy=Policy(quiet_hours=(10, 20)))


def test_ambiguous_zone_is_info_not_warn():
    at = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    found = [x for x in evaluate_campaign(sms(scheduled_at=at, recipients=["+79991234567"]), message=None,
                                          posture=None, policy=Policy(), now=NOW) if x.rule_id == "SMS-QUIET-HOURS"]
    assert found and found[0].severity == "info"


def test_quiet_hours_silent_without_a_schedule():
    assert "SMS-QUIET-HOURS" not in campaign_ids(sms(), message=None)


@pytest.mark.parametrize(("name", "hit"), [(None, True), ("", True), ("A-VERY-LONG-SENDER", True),
                                           ("Магазин", True), ("SHOP", False)])
def test_sms_sender_name(name, hit):
    assert ("RU-126FZ-44.1-SENDER" in campaign_ids(sms(sender={"sms_sender_name": name}), message=None)) is hit


def test_sms_sender_name_registered_in_policy():
    policy = Policy(registered_sms_senders=["SHOPRU"])
    assert "RU-126FZ-44.1-SENDER" in campaign_ids(sms(), message=None, policy=policy)


def test_generated_numbers_and_unconsented_numbers():
    run = [f"+7999123456{i}" for i in range(6)]
    assert "RU-38FZ-18-AUTO" in campaign_ids(sms(recipients=run), message=None)
    assert "RU-38FZ-18-AUTO" not in campaign_ids(sms(recipients=["+79991234560", "+79161112233"]), message=None)
    assert "RU-38FZ-18-AUTO" in recipient_ids(None, sms())
    from tests.checks.rules.conftest import state

    assert "RU-38FZ-18-AUTO" not in recipient_ids(state(channel="sms"), sms())


def test_auth_of_a_message_signed_at_send_time_rests_on_declared_selectors():
    pending = report(dkim=[], signed_at_send=True)
    assert "BULK-AUTH" not in campaign_ids(facts(), message=pending)
    assert "BULK-AUTH" in campaign_ids(facts(sender={"dkim_selectors": []}), message=pending)
    assert "BULK-AUTH" in campaign_ids(facts(), message=pending, posture_=posture("DKIM-KEY-MISSING"))
