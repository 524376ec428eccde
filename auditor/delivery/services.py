"""Delivery KPIs from ``delivery_events`` in SQL aggregates, SLA and after-withdrawal findings.

Every figure is one GROUP BY over the indexed events (no Python loop over events): a message is
the recipient within the campaign (per campaign) or the recipient with the ESP's campaign or
message id (per integration); opens, clicks, complaints and unsubscribes count people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auditor.db import is_sqlite
from auditor.integrations.models import DeliveryEvent, Integration
from checks import delivery as kpi
from consent_ledger.schema import events as ledger_events

E = DeliveryEvent.__table__


class DeliveryError(LookupError):
    """No such campaign or integration; the message says which."""


def _secs(session: Session, col: Any) -> Any:
    """Seconds since an epoch of a timestamp column, in the dialect's own function."""
    if is_sqlite(session):
        return sa.func.julianday(col) * 86400.0
    return sa.extract("epoch", col)


def _day(session: Session, col: Any) -> Any:
    """The UTC day of a timestamp column as ``YYYY-MM-DD``."""
    if is_sqlite(session):
        return sa.func.date(col)
    return sa.func.to_char(sa.func.timezone("UTC", col), "YYYY-MM-DD")


def _message_cols(per_campaign: bool) -> list[Any]:
    """What names one message besides the person: nothing per campaign, else the ESP's id."""
    if per_campaign:
        return []
    # SendGrid names the message (sg_message_id) or single send; the others their campaign / job.
    return [sa.func.coalesce(E.c.esp_campaign, sa.cast(E.c.campaign_id, sa.String), "").label("ref")]


def _flag(cond: Any, name: str) -> Any:
    return sa.func.max(sa.case((cond, 1), else_=0)).label(name)


MESSAGE_FLAGS = ("sent", "delivered", "bounced_hard", "bounced_soft", "deferred", "dropped")
PERSON_FLAGS = ("complaints", "unsubscribes", "opened", "clicked", "opened_by_machine")


def _per_message(session: Session, where: Any, per_campaign: bool, day: Any = None, cte: bool = False) -> Any:
    """One row per message (and day): flags of what happened to it, its first submission and delivery."""
    secs = _secs(session, E.c.event_at)
    keys = [E.c.recipient_pseudonym.label("who"), *_message_cols(per_campaign)]
    if day is not None:
        keys.insert(0, day.label("day"))
    kind = E.c.kind
    cols = [_flag(kind.in_(kpi.SENT_KINDS), "sent"), _flag(kind == "delivered", "delivered"),
            _flag(kind == "hard_bounce", "bounced_hard"), _flag(kind == "soft_bounce", "bounced_soft"),
            _flag(kind == "deferred", "deferred"), _flag(kind == "dropped", "dropped"),
            _flag(kind == "complaint", "complaints"), _flag(kind.in_(kpi.UNSUBSCRIBE_KINDS), "unsubscribes"),
            _flag(kind == "opened", "opened"), _flag(kind == "clicked", "clicked"),
            _flag(sa.and_(kind == "opened", E.c.provider_type.in_(kpi.MACHINE_OPEN_TYPES)), "opened_by_machine"),
            sa.func.min(E.c.event_at).label("first_event_at"), sa.func.max(E.c.event_at).label("last_event_at"),
            sa.func.min(sa.case((kind.in_(kpi.SUBMITTED_KINDS), secs))).label("s"),
            sa.func.min(sa.case((kind == "delivered", secs))).label("d")]
    q = sa.select(*keys, *cols).where(where).group_by(*keys)
    return q.cte("m") if cte else q.subquery("m")


def _figures_rows(session: Session, where: Any, per_campaign: bool, by_day: bool = False) -> list[Any]:
    """Counts per scope (or per day): messages summed, people counted once (three nested GROUP BYs).

    The scope's row also carries ``p50`` / ``p95``, read from the same per-message rows (one scan).
    """
    m = _per_message(session, where, per_campaign, _day(session, E.c.event_at) if by_day else None,
                     cte=not by_day)
    pkeys = [m.c.day, m.c.who] if by_day else [m.c.who]
    person = (sa.select(*pkeys, *(sa.func.sum(m.c[n]).label(n) for n in MESSAGE_FLAGS),
                        *(sa.func.max(m.c[n]).label(n) for n in PERSON_FLAGS),
                        sa.func.min(m.c.first_event_at).label("first_event_at"),
                        sa.func.max(m.c.last_event_at).label("last_event_at"))
              .group_by(*pkeys).subquery("p"))
    cols = [*(sa.func.sum(person.c[n]).label(n) for n in (*MESSAGE_FLAGS, *PERSON_FLAGS)),
            sa.func.min(person.c.first_event_at).label("first_event_at"),
            sa.func.max(person.c.last_event_at).label("last_event_at")]
    if by_day:
        return list(session.execute(sa.select(person.c.day, *cols).group_by(person.c.day)
                                    .order_by(person.c.day)).mappings())
    pcts = _percentile_columns(m)
    totals = sa.select(*cols).subquery("t")
    return [session.execute(sa.select(totals, *pcts)).mappings().one()]


def _iso(ts: Any) -> str | None:
    if ts is None:
        return None
    if isinstance(ts, str):  # SQLite returns aggregates of timestamps as text
        ts = datetime.fromisoformat(ts)
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()


def _figures(row: Mapping[str, Any]) -> dict[str, Any]:
    counts = {n: int(row[n] or 0) for n in kpi.COUNT_NAMES}
    machine = int(row["opened_by_machine"] or 0)
    return {"counts": counts, "rates": kpi.rates(counts),
            "opens": {"machine": machine, "reliable": machine == 0},
            "first_event_at": _iso(row["first_event_at"]), "last_event_at": _iso(row["last_event_at"])}


def _percentile_columns(m: Any) -> list[Any]:
    """Nearest-rank p50 / p95 of seconds from a message's first submission event to its first delivery.

    One window pass: the smallest duration whose rank is at least p * n is the nearest-rank percentile.
    """
    dur = sa.func.round(m.c.d - m.c.s)
    ranked = (sa.select(dur.label("dur"), sa.func.row_number().over(order_by=dur).label("rn"),
                        sa.func.count().over().label("n"))
              .where(m.c.s.is_not(None), m.c.d.is_not(None), m.c.d >= m.c.s).subquery("r"))
    return [sa.select(sa.func.min(sa.case((ranked.c.rn >= p * ranked.c.n, ranked.c.dur))))
            .scalar_subquery().label(name) for name, p in (("p50", 0.5), ("p95", 0.95))]


def _seconds(row: Mapping[str, Any]) -> dict[str, float | None]:
    return {k: None if row[k] is None else float(row[k]) for k in ("p50", "p95")}


# --- scopes --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignScope:
    """A campaign and how its events are recognised."""

    campaign_id: int
    integration: Integration | None
    campaign_ref: str | None

    def where(self) -> Any:
        """Events of the campaign: Auditor's id in the payload, or the ESP's campaign id."""
        linked = E.c.campaign_id == self.campaign_id
        if self.integration is not None and self.campaign_ref:
            linked = sa.or_(linked, sa.and_(E.c.integration_id == self.integration.id,
                                            E.c.esp_campaign == self.campaign_ref))
        return linked


def campaign_scope(session: Session, campaign_id: int) -> CampaignScope:
    """The scope of a stored campaign; DeliveryError when there is none."""
    from auditor.campaigns.models import Campaign

    doc = session.scalar(sa.select(Campaign.document).where(Campaign.id == campaign_id))
    if doc is None:
        raise DeliveryError(f"no campaign {campaign_id}")
    esp = doc.get("esp") or {}
    integration = None
    if esp.get("integration"):
        integration = session.scalar(sa.select(Integration).where(Integration.name == esp["integration"]))
    return CampaignScope(campaign_id, integration, esp.get("campaign_ref"))


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


# --- KPIs ----------------------------------------------------------------------------------------

def campaign_kpis(session: Session, campaign_id: int, grace_minutes: int = 0) -> dict[str, Any]:
    """The INTERFACES.md campaign delivery document, with DELIVERY-AFTER-WITHDRAWAL findings."""
    scope = campaign_scope(session, campaign_id)
    where = scope.where()
    (row,) = _figures_rows(session, where, True)
    findings = after_withdrawal(session, where, timedelta(minutes=grace_minutes))
    return {"campaign_id": campaign_id, **_figures(row),
            "delivery_seconds": _seconds(row),
            "findings": [f.to_dict() for f in findings]}


def integration_kpis(session: Session, name: str, start: date, end: date, policy: Any | None = None
                     ) -> dict[str, Any]:
    """One integration's figures over ``start``..``end`` (inclusive days), per day, with SLA findings."""
    integration = session.scalar(sa.select(Integration).where(Integration.name == name))
    if integration is None:
        raise DeliveryError(f"no integration named {name!r}")
    lo, hi = _bounds(start, end)
    where = sa.and_(E.c.integration_id == integration.id, E.c.event_at >= lo, E.c.event_at < hi)
    (total,) = _figures_rows(session, where, False)
    days = [{"day": r["day"], **_figures(r)} for r in _figures_rows(session, where, False, by_day=True)]
    sla = (policy.sla.get(name) if policy is not None else None)
    figures = _figures(total)
    period = _period(session, integration, where, start, end, figures["counts"], sla)
    findings = kpi.sla_findings(period, sla)
    grace = timedelta(minutes=policy.withdrawal_grace_minutes if policy is not None else 0)
    findings += after_withdrawal(session, where, grace)
    return {"integration": name, "from": start.isoformat(), "to": end.isoformat(), **figures,
            "delivery_seconds": _seconds(total), "days": days,
            "sla": sla.model_dump() if sla is not None else None,
            "findings": [f.to_dict() for f in findings]}


def _period(session: Session, integration: Integration, where: Any, start: date, end: date,
            counts: dict[str, int], sla: Any | None) -> kpi.Period:
    """The latency figures the SLA reads (only what its terms need)."""
    unsub_max = unsub_late = report_max = report_late = None
    if sla is not None and sla.unsubscribe_honour_hours_max is not None:
        u, d = E.alias("u"), E.alias("d")
        lag = (sa.func.max(_secs(session, d.c.event_at)) - sa.func.min(_secs(session, u.c.event_at))).label("lag")
        per = (sa.select(lag).select_from(u.join(d, sa.and_(
            d.c.integration_id == u.c.integration_id, d.c.recipient_pseudonym == u.c.recipient_pseudonym,
            d.c.kind == "delivered", d.c.event_at > u.c.event_at)))
            .where(u.c.integration_id == integration.id, u.c.kind.in_((*kpi.UNSUBSCRIBE_KINDS, "complaint")),
                   u.c.event_at >= _bounds(start, end)[0], u.c.event_at < _bounds(start, end)[1])
            .group_by(u.c.recipient_pseudonym).subquery())
        limit = sla.unsubscribe_honour_hours_max * 3600
        unsub_max, unsub_late = session.execute(sa.select(
            sa.func.max(per.c.lag), sa.func.count(sa.case((per.c.lag > limit, 1))))).one()
    if sla is not None and sla.report_delay_hours_max is not None:
        delay = _secs(session, E.c.received_at) - _secs(session, E.c.event_at)
        limit = sla.report_delay_hours_max * 3600
        report_max, report_late = session.execute(sa.select(
            sa.func.max(delay), sa.func.count(sa.case((delay > limit, 1)))).where(where)).one()
    return kpi.Period(integration.name, start.isoformat(), end.isoformat(), counts,
                      unsubscribe_hours_max=_hours(unsub_max), unsubscribe_late=int(unsub_late or 0),
                      report_hours_max=_hours(report_max), reports_late=int(report_late or 0))


# --- delivered after a withdrawal -----------------------------------------------------------------

def after_withdrawal(session: Session, where: Any, grace: timedelta) -> list[Any]:
    """DELIVERY-AFTER-WITHDRAWAL findings among the delivered events ``where`` selects."""
    i = Integration.__table__
    le = ledger_events
    # Only deliveries to people with a stop in the ledger: one join, usually few rows.
    stopped = sa.and_(le.c.pseudonym == E.c.recipient_pseudonym, le.c.type.in_(kpi.STOP_TYPES), sa.or_(
        le.c.type == "erased", sa.and_(le.c.channel == i.c.channel, le.c.purpose == i.c.purpose)))
    rows = session.execute(
        sa.select(E.c.recipient_pseudonym, E.c.event_at, E.c.provider_event_id, E.c.campaign_id, i.c.name,
                  i.c.channel, i.c.purpose)
        .select_from(E.join(i, i.c.id == E.c.integration_id))
        .where(where, E.c.kind == "delivered", sa.exists().where(stopped))).all()
    if not rows:
        return []
    wanted = {(r.recipient_pseudonym, r.channel, r.purpose) for r in rows}
    history: dict[str, list[kpi.LedgerMark]] = {}
    people = sorted({w[0] for w in wanted})
    for n in range(0, len(people), 500):
        for seq, p, type_, channel, purpose, recorded in session.execute(
                sa.select(le.c.seq, le.c.pseudonym, le.c.type, le.c.channel, le.c.purpose, le.c.recorded_at)
                .where(le.c.pseudonym.in_(people[n:n + 500]))):
            if type_ == "erased" or (p, channel, purpose) in wanted:
                history.setdefault(p, []).append(kpi.LedgerMark(seq, type_, _parse(recorded)))
    deliveries = [kpi.Delivery(r.recipient_pseudonym, _parse(r.event_at), r.provider_event_id, r.name,
                               r.campaign_id) for r in rows]
    return kpi.after_withdrawal(deliveries, history, grace)


def _hours(seconds: Any) -> float | None:
    return round(float(seconds) / 3600, 3) if seconds is not None else None


def _parse(ts: Any) -> datetime:
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


# --- the sending domain's measured spam rate (BULK-SPAM-RATE) --------------------------------------

MEASURE_DAYS = 30


def domain_spam_rate(session: Session, domain: str, now: datetime) -> dict[str, Any] | None:
    """Complaints (people) over delivered (messages) of the domain's campaigns over the last 30 days."""
    from auditor.campaigns.models import Campaign

    ids, refs = [], []
    for cid, doc in session.execute(sa.select(Campaign.id, Campaign.document).where(Campaign.channel == "email")):
        if ((doc or {}).get("sender") or {}).get("domain") == domain:
            ids.append(cid)
            esp = doc.get("esp") or {}
            if esp.get("integration") and esp.get("campaign_ref"):
                refs.append((esp["integration"], esp["campaign_ref"]))
    if not ids:
        return None
    lo = now - timedelta(days=MEASURE_DAYS)
    linked = [E.c.campaign_id.in_(ids)]
    if refs:
        names = dict(session.execute(sa.select(Integration.name, Integration.id)
                                     .where(Integration.name.in_({r[0] for r in refs}))).all())
        linked += [sa.and_(E.c.integration_id == names[n], E.c.esp_campaign == ref) for n, ref in refs if n in names]
    (row,) = _figures_rows(session, sa.and_(sa.or_(*linked), E.c.event_at >= lo, E.c.event_at <= now), False)
    delivered, complaints = int(row["delivered"] or 0), int(row["complaints"] or 0)
    if not delivered:
        return None
    return {"rate": round(complaints / delivered, 6), "source": "delivery events", "complaints": complaints,
            "delivered": delivered, "start": lo.date().isoformat(), "end": now.date().isoformat()}


def measured_spam_rate(app: Any, doc: Any) -> Any:
    """The facts' measured rate for an email campaign whose document gives no spam rate, else None."""
    from auditor.services import services
    from checks.rules.facts import MeasuredSpamRate

    if doc.channel != "email" or (doc.stats is not None and doc.stats.spam_rate is not None):
        return None
    from auditor.delivery.postmaster import domain_rate

    now = datetime.now(UTC)
    with services(app).sessions() as s:
        found = [f for f in (domain_spam_rate(s, doc.sender.domain, now), domain_rate(
            s, doc.sender.domain, (now - timedelta(days=MEASURE_DAYS)).date(), now.date())) if f]
    if not found:
        return None
    worst = max(found, key=lambda f: f["rate"])  # the higher measurement decides (Gmail's or ours)
    return MeasuredSpamRate(**{k: v for k, v in worst.items() if k in MeasuredSpamRate.model_fields})
