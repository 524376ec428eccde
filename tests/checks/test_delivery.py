"""Pure delivery maths: rates, nearest-rank percentiles, SLA and after-withdrawal findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from checks.delivery import (
    Delivery,
    LedgerMark,
    Period,
    after_withdrawal,
    rank_offset,
    rates,
    sla_findings,
)
from checks.rules.policy import load_policy

T = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_rates_use_their_denominators_and_none_for_nothing():
    r = rates({"sent": 200, "delivered": 100, "bounced_hard": 3, "bounced_soft": 1, "complaints": 1,
               "unsubscribes": 2, "opened": 50, "clicked": 7})
    assert r == {"delivery": 0.5, "bounce": 0.02, "complaint": 0.01, "unsubscribe": 0.02, "open": 0.25,
                 "click": 0.035}
    assert set(rates({}).values()) == {None}


def test_nearest_rank():
    assert [rank_offset(n, 0.5) for n in (1, 2, 3, 4, 100)] == [0, 0, 1, 1, 49]
    assert [rank_offset(n, 0.95) for n in (1, 2, 20, 21, 100)] == [0, 1, 18, 19, 94]


def _d(at: datetime, who: str = "p1", eid: str = "e1") -> Delivery:
    return Delivery(who, at, eid, "sg", 1)


def test_after_withdrawal_respects_grace_and_event_time():
    history = {"p1": [LedgerMark(5, "granted", T - timedelta(days=9)), LedgerMark(9, "withdrawn", T)]}
    assert after_withdrawal([_d(T - timedelta(seconds=1))], history, timedelta()) == []  # before: fine
    (f,) = after_withdrawal([_d(T + timedelta(minutes=1))], history, timedelta())
    assert f.evidence["withdrawal_seq"] == 9 and f.severity == "block"
    # Gmail/Yahoo's two days: a delivery 47 h later is within grace, 49 h is not
    grace = timedelta(minutes=load_policy({"withdrawal_grace_minutes": 2880}).withdrawal_grace_minutes)
    assert after_withdrawal([_d(T + timedelta(hours=47))], history, grace) == []
    assert len(after_withdrawal([_d(T + timedelta(hours=49))], history, grace)) == 1


def test_consent_given_again_clears_and_duplicates_are_one_finding():
    history = {"p1": [LedgerMark(9, "withdrawn", T), LedgerMark(12, "granted", T + timedelta(hours=1))]}
    assert after_withdrawal([_d(T + timedelta(hours=2))], history, timedelta()) == []
    (f,) = after_withdrawal([_d(T + timedelta(minutes=5), eid="b"), _d(T + timedelta(minutes=2), eid="a")],
                            {"p1": history["p1"][:1]}, timedelta())
    assert f.evidence["provider_event_id"] == "a"  # the first delivery after the withdrawal
    assert after_withdrawal([_d(T + timedelta(hours=1), who="p2")], history, timedelta()) == []


def test_sla_findings_only_for_terms_given():
    sla = load_policy({"sla": {"sg": {"bounce_rate_max": 0.02}}}).sla["sg"]
    p = Period("sg", "2026-11-01", "2026-11-30", {"sent": 100, "delivered": 90, "bounced_hard": 3}, reports_late=4)
    (f,) = sla_findings(p, sla)
    assert f.rule_id == "SLA-BOUNCE-RATE" and f.evidence["rate"] == 0.03 and f.subject == "integration:sg"
    assert f.detail.msgid == "{name} rate {value} is over the SLA maximum {limit}"
    assert sla_findings(p, None) == []
    assert sla_findings(Period("sg", "a", "b", {"sent": 100, "bounced_hard": 2}), sla) == []  # at the limit
