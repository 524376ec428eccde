"""RU pack: 38-FZ art. 18 and 18.1, 152-FZ art. 9, 12, 15, 18 — each id both ways."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checks.rules import Policy
from tests.checks.rules.conftest import campaign_ids, facts, recipient_ids, report, state

RU_CAMPAIGN = {"RU-38FZ-18.1-MARKING", "RU-152FZ-18-LOCALISATION", "RU-152FZ-12-CROSS-BORDER"}


def test_clean_ru_campaign_has_no_ru_findings():
    assert not campaign_ids(facts()) & RU_CAMPAIGN
    assert recipient_ids(state()) == []


@pytest.mark.parametrize("s", [None, state(status="withdrawn"), state(status="erased")])
def test_advertising_without_consent(s):
    found = recipient_ids(s)
    assert "RU-38FZ-18-CONSENT" in found and "RU-152FZ-15-DIRECT-MARKETING" in found


def test_informational_mail_is_not_advertising():
    f = facts(advertising=False, purpose="service")
    found = recipient_ids(None, f)
    assert "RU-38FZ-18-CONSENT" not in found and "RU-152FZ-15-DIRECT-MARKETING" not in found
    assert "RU-38FZ-18.1-MARKING" not in campaign_ids(f)


@pytest.mark.parametrize(("message", "mark", "missing"), [
    (report(visible_text="OOO Shop. Our offers. Отписаться", subject="Offers"), None, "«Реклама»"),
    (report(visible_text="Реклама. Our offers."), {"label": "Реклама", "erid": "x1"}, "name or site"),
    (report(), {"label": "Реклама", "erid": None}, "erid"),
])
def test_marking_missing_a_part(message, mark, missing):
    f = facts(message={"subject": "Offers", "ad_marking": mark})
    found = [x for x in _campaign(f, message) if x.rule_id == "RU-38FZ-18.1-MARKING"]
    assert found and missing in found[0].detail and found[0].severity == "warn"


def test_erid_in_a_link_counts():
    m = report(links=[{"href": "https://shop.example/?erid=2Vtzqx1", "text": "x", "domain": "shop.example"}])
    assert "RU-38FZ-18.1-MARKING" not in campaign_ids(facts(message={"ad_marking": None}), message=m)


def test_marking_is_for_internet_advertising_only():
    assert "RU-38FZ-18.1-MARKING" not in campaign_ids(facts(channel="sms", message={"ad_marking": None}),
                                                      message=None)


def test_localisation_and_cross_border():
    assert {"RU-152FZ-18-LOCALISATION", "RU-152FZ-12-CROSS-BORDER"} <= campaign_ids(
        facts(sender={"processing_country": "DE"}))
    notified = Policy(cross_border_notifications={"DE": "RKN notification 2025-03-01"})
    ids = campaign_ids(facts(sender={"processing_country": "DE"}), policy=notified)
    assert "RU-152FZ-18-LOCALISATION" in ids and "RU-152FZ-12-CROSS-BORDER" not in ids


def test_unknown_processing_country_is_said_not_guessed():
    found = [x for x in _campaign(facts(sender={"processing_country": None}), report())
             if x.rule_id.startswith("RU-152FZ-1")]
    assert [x.rule_id for x in found] == ["RU-152FZ-18-LOCALISATION"]
    assert "not declared" in found[0].detail


def test_consent_content_needs_a_notice_version_and_reviewed_versions():
    assert "RU-152FZ-9-CONSENT-CONTENT" in recipient_ids(state(notice_version=None))
    reviewed = Policy(reviewed_notices=["2025-10"])
    assert "RU-152FZ-9-CONSENT-CONTENT" in recipient_ids(state(notice_version="2025-09"), policy=reviewed)
    assert "RU-152FZ-9-CONSENT-CONTENT" not in recipient_ids(state(notice_version="2025-10"), policy=reviewed)


def test_separate_document_from_september_2025():
    assert "RU-152FZ-9-SEPARATE" in recipient_ids(state(separate_document=False))
    assert "RU-152FZ-9-SEPARATE" in recipient_ids(state(separate_document=None))
    old = state(separate_document=False, granted_at=datetime(2025, 8, 1, tzinfo=UTC))
    assert "RU-152FZ-9-SEPARATE" not in recipient_ids(old)


def _campaign(f, message):
    from checks.rules import evaluate_campaign
    from tests.checks.rules.conftest import NOW, posture

    return evaluate_campaign(f, message=message, posture=posture(), policy=Policy(), now=NOW)


@pytest.mark.parametrize(("value", "hit"), [(0, True), (False, True), (None, True), (1, False), (True, False)])
def test_separate_document_as_the_bulk_read_returns_it(value, hit):
    found = [f for f in recipient_findings_of(state(separate_document=value)) if f.rule_id == "RU-152FZ-9-SEPARATE"]
    assert bool(found) is hit
    if value is not None and hit:
        assert "not as a separate document" in found[0].detail


def recipient_findings_of(s):
    from checks.rules import recipient_findings
    from tests.checks.rules.conftest import NOW

    return recipient_findings(s, facts=facts(), now=NOW)
