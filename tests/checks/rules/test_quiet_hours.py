"""SMS-QUIET-HOURS with real Russian and Kazakh numbers: a zone only where the range names one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from checks.rules import Policy, evaluate_campaign
from checks.rules.channel import zone_of
from tests.checks.rules.conftest import NOW, facts

MSK = ZoneInfo("Europe/Moscow")


def quiet(recipients: list[str], at: datetime) -> list:
    """SMS-QUIET-HOURS findings of an RU advertising SMS to ``recipients`` scheduled ``at``."""
    f = facts(channel="sms", sender={"sms_sender_name": "SHOP"}, recipients=recipients, scheduled_at=at)
    return [x for x in evaluate_campaign(f, message=None, posture=None, policy=Policy(), now=NOW)
            if x.rule_id == "SMS-QUIET-HOURS"]


@pytest.mark.parametrize(("number", "zone"), [
    ("+74951234567", "Europe/Moscow"),  # Moscow landline
    ("+78123456789", "Europe/Moscow"),  # St Petersburg landline
    ("+73832123456", "Asia/Novosibirsk"),  # Novosibirsk landline
    ("+74232123456", "Asia/Vladivostok"),  # Vladivostok landline
    ("+77272123456", "Asia/Almaty"),  # Almaty landline
    ("+79161234567", None),  # Moscow mobile (MTS): the range names no zone
    ("+79213456789", None),  # St Petersburg mobile (MegaFon)
    ("+79141234567", None),  # Far East mobile
    ("+77011234567", None),  # Kazakh mobile (Beeline KZ)
])
def test_a_number_has_a_zone_only_when_its_range_names_one(number, zone):
    assert zone_of(number) == zone


def test_moscow_mobile_late_evening_is_unknown_zone_not_almaty():
    found = quiet(["+79161234567"], datetime(2026, 12, 1, 22, 30, tzinfo=MSK))
    assert [f.severity for f in found] == ["info"], found
    assert "unknown" in found[0].detail and "Almaty" not in found[0].detail
    assert found[0].evidence["outside"] == {} and found[0].evidence["unknown"] == 1


@pytest.mark.parametrize(("number", "at", "outside"), [
    ("+74951234567", datetime(2026, 12, 1, 22, 30, tzinfo=MSK), {"Europe/Moscow": 1}),
    ("+74951234567", datetime(2026, 12, 1, 12, 0, tzinfo=MSK), None),
    ("+74951234567", datetime(2026, 12, 1, 8, 59, tzinfo=MSK), {"Europe/Moscow": 1}),
    ("+74951234567", datetime(2026, 12, 1, 9, 0, tzinfo=MSK), None),
    ("+74232123456", datetime(2026, 12, 1, 15, 0, tzinfo=MSK), {"Asia/Vladivostok": 1}),  # 22:00 there
    ("+74232123456", datetime(2026, 12, 1, 10, 0, tzinfo=MSK), None),  # 17:00 there
    ("+77272123456", datetime(2026, 12, 1, 20, 30, tzinfo=MSK), {"Asia/Almaty": 1}),  # 22:30 in Almaty
    ("+77272123456", datetime(2026, 12, 1, 9, 0, tzinfo=MSK), None),  # 11:00 in Almaty
])
def test_single_zone_numbers_inside_and_outside_the_window(number, at, outside):
    found = [f for f in quiet([number], at) if f.severity == "warn"]
    assert (found[0].evidence["outside"] if found else None) == outside, found
    assert not [f for f in quiet([number], at) if f.severity == "info"]


def test_mobiles_inside_the_window_in_every_possible_zone_are_silent():
    # 07:30 UTC: 09:30 in Europe/Bucharest, 19:30 in Asia/Anadyr, the ends of the +7 zone list
    at = datetime(2026, 12, 1, 10, 30, tzinfo=MSK)
    assert quiet(["+79161234567", "+77011234567"], at) == []


def test_known_and_unknown_numbers_together_give_a_warn_and_an_info():
    at = datetime(2026, 12, 1, 22, 30, tzinfo=MSK)
    found = quiet(["+74951234567", "+78123456789", "+79161234567", "+77011234567", "not a number"], at)
    by = {f.severity: f for f in found}
    assert set(by) == {"warn", "info"}
    assert by["warn"].evidence["outside"] == {"Europe/Moscow": 2} and "Europe/Moscow" in by["warn"].detail
    assert by["info"].evidence["unknown"] == 3 and "Almaty" not in by["info"].detail
