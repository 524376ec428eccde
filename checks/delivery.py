"""Delivery KPIs and contractor SLAs: rates, percentiles and findings (pure code, no database).

The figures come from SQL aggregates (``auditor/delivery/services.py``); this module turns
them into rates (INTERFACES.md § Delivery: complaint and unsubscribe rates over delivered,
the others over sent) and into ``SLA-*`` and ``DELIVERY-AFTER-WITHDRAWAL`` findings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from checks.catalogue import finding
from checks.findings import Finding
from checks.i18n import msg

COUNT_NAMES = ("sent", "delivered", "bounced_hard", "bounced_soft", "deferred", "dropped", "complaints",
               "unsubscribes", "opened", "clicked")
# Kinds that show the provider took the message (the denominator "sent").
SENT_KINDS = ("processed", "sent", "delivered", "hard_bounce", "soft_bounce", "deferred", "dropped")
# Kinds that mark the submission (the start of submission-to-delivery time).
SUBMITTED_KINDS = ("processed", "sent")
UNSUBSCRIBE_KINDS = ("unsubscribe", "group_unsubscribe")
# Provider types of opens made by a machine (Apple Mail Privacy Protection prefetches every image).
MACHINE_OPEN_TYPES = ("machine_open",)
STOP_TYPES = ("withdrawn", "erased")


def ratio(part: int, whole: int) -> float | None:
    """part / whole rounded to 6 places, or None when nothing is in the denominator."""
    return round(part / whole, 6) if whole else None


def rates(counts: Mapping[str, int]) -> dict[str, float | None]:
    """The KPI rates of INTERFACES.md § Delivery from the counts."""
    sent, delivered = counts.get("sent", 0), counts.get("delivered", 0)
    return {"delivery": ratio(delivered, sent),
            "bounce": ratio(counts.get("bounced_hard", 0) + counts.get("bounced_soft", 0), sent),
            "complaint": ratio(counts.get("complaints", 0), delivered),
            "unsubscribe": ratio(counts.get("unsubscribes", 0), delivered),
            "open": ratio(counts.get("opened", 0), sent),
            "click": ratio(counts.get("clicked", 0), sent)}


def rank_offset(n: int, p: float) -> int:
    """0-based offset of the nearest-rank ``p`` percentile among ``n`` sorted values."""
    return max(0, min(n - 1, math.ceil(p * n) - 1))


@dataclass(frozen=True)
class Period:
    """What the SLA checks read of one integration over one period."""

    integration: str
    start: str
    end: str
    counts: Mapping[str, int]
    unsubscribe_hours_max: float | None = None  # worst ESP unsubscribe to last delivery after it
    unsubscribe_late: int = 0  # unsubscribes honoured later than the SLA
    report_hours_max: float | None = None  # worst event time to arrival
    reports_late: int = 0  # events that arrived later than the SLA


def sla_findings(period: Period, sla: Any | None) -> list[Finding]:
    """``SLA-*`` findings of one integration's period against its terms (None: no SLA, nothing)."""
    if sla is None:
        return []
    r = rates(period.counts)
    out = []
    ev = {"integration": period.integration, "from": period.start, "to": period.end}
    subject = f"integration:{period.integration}"

    def over(rule_id: str, value: float | None, limit: float | None, below: bool, name: str) -> None:
        if value is None or limit is None or (value >= limit if below else value <= limit):
            return
        text = (msg("{name} rate {value} is under the SLA minimum {limit}", name=name, value=f"{value:.2%}",
                    limit=f"{limit:.2%}") if below else
                msg("{name} rate {value} is over the SLA maximum {limit}", name=name, value=f"{value:.2%}",
                    limit=f"{limit:.2%}"))
        out.append(finding(rule_id, text, subject=subject, evidence={**ev, "rate": value, "limit": limit,
                                                                       "counts": dict(period.counts)}))

    over("SLA-DELIVERY-RATE", r["delivery"], sla.delivery_rate_min, True, "delivery")
    over("SLA-BOUNCE-RATE", r["bounce"], sla.bounce_rate_max, False, "bounce")
    over("SLA-COMPLAINT-RATE", r["complaint"], sla.complaint_rate_max, False, "complaint")
    hours = sla.unsubscribe_honour_hours_max
    if hours is not None and period.unsubscribe_late:
        out.append(finding("SLA-UNSUBSCRIBE-LATENCY", msg(
            "{count} unsubscribe(s) honoured later than {limit} h (worst {worst} h)", count=period.unsubscribe_late,
            limit=f"{hours:g}", worst=f"{period.unsubscribe_hours_max:.1f}"), subject=subject,
            evidence={**ev, "late": period.unsubscribe_late, "worst_hours": period.unsubscribe_hours_max,
                      "limit_hours": hours}))
    hours = sla.report_delay_hours_max
    if hours is not None and period.reports_late:
        out.append(finding("SLA-REPORT-LATE", msg(
            "{count} delivery event(s) arrived later than {limit} h (worst {worst} h)", count=period.reports_late,
            limit=f"{hours:g}", worst=f"{period.report_hours_max:.1f}"), subject=subject,
            evidence={**ev, "late": period.reports_late, "worst_hours": period.report_hours_max,
                      "limit_hours": hours}))
    return out


@dataclass(frozen=True)
class Delivery:
    """One delivered event to a person who withdrew at some time."""

    pseudonym: str
    delivered_at: datetime
    provider_event_id: str
    integration: str
    campaign_id: int | None


@dataclass(frozen=True)
class LedgerMark:
    """One consent ledger event of that person on the integration's channel and purpose."""

    seq: int
    type: str
    recorded_at: datetime


def after_withdrawal(deliveries: Iterable[Delivery], history: Mapping[str, list[LedgerMark]],
                     grace: timedelta) -> list[Finding]:
    """``DELIVERY-AFTER-WITHDRAWAL`` per person: delivered while their latest ledger event, recorded
    more than ``grace`` before the delivery, was a withdrawal or erasure (38-FZ art. 18 p. 1).

    The provider's event time decides, not the arrival: a delivery that happened before the
    withdrawal is fine however late its event comes; a duplicate is one finding per person.
    """
    worst: dict[str, tuple[Delivery, LedgerMark]] = {}
    for d in sorted(deliveries, key=lambda d: (d.delivered_at, d.provider_event_id)):
        if d.pseudonym in worst:
            continue
        cutoff = d.delivered_at - grace
        before = [m for m in history.get(d.pseudonym, ()) if m.recorded_at <= cutoff]
        if before:
            last = max(before, key=lambda m: m.seq)
            if last.type in STOP_TYPES:
                worst[d.pseudonym] = (d, last)
    out = []
    for d, m in worst.values():
        late = d.delivered_at - m.recorded_at
        out.append(finding("DELIVERY-AFTER-WITHDRAWAL", msg(
            "delivered through {integration} at {delivered}, {minutes} min after the withdrawal was recorded "
            "at {withdrawn} (ledger seq {seq})", integration=d.integration,
            delivered=d.delivered_at.isoformat(), withdrawn=m.recorded_at.isoformat(), seq=m.seq,
            minutes=f"{late.total_seconds() / 60:.0f}"), subject=f"recipient:{d.pseudonym}",
            evidence={"pseudonym": d.pseudonym, "withdrawal_seq": m.seq, "withdrawal_type": m.type,
                      "withdrawn_at": m.recorded_at.isoformat(),
                      "inclusion_proof": f"/api/v1/ledger/proof/inclusion?seq={m.seq}",
                      "provider_event_id": d.provider_event_id, "delivered_at": d.delivered_at.isoformat(),
                      "integration": d.integration, "campaign_id": d.campaign_id,
                      "grace_minutes": int(grace.total_seconds() // 60)}))
    return out
