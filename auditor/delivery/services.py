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


def _message_key(per_campaign: bool) -> Any:
    if per_campaign:
        return E.c.recipient_pseudonym
    # SendGrid names the message (sg_message_id) or single send; the others their campaign / job.
    ref = sa.func.coalesce(E.c.esp_campaign, sa.cast(E.c.campaign_id, sa.String), "")
    return E.c.recipient_pseudonym + "|" + ref


def _count_columns(per_campaign: bool) -> list[Any]:
    key, who = _message_key(per_campaign), E.c.recipient_pseudonym

    def distinct(what: Any, kinds: tuple[str, ...], name: str, extra: Any = None) -> Any:
        cond = E.c.kind.in_(kinds) if extra is None else sa.and_(E.c.kind.in_(kinds), extra)
        return sa.func.count(sa.distinct(sa.case((cond, what)))).label(name)

    return [distinct(key, kpi.SENT_KINDS, "sent"), distinct(key, ("delivered",), "delivered"),
            distinct(key, ("hard_bounce",), "bounced_hard"), distinct(key, ("soft_bounce",), "bounced_soft"),
            distinct(key, ("deferred",), "deferred"), distinct(key, ("dropped",), "dropped"),
            distinct(who, ("complaint",), "complaints"), distinct(who, kpi.UNSUBSCRIBE_KINDS, "unsubscribes"),
            distinct(who, ("opened",), "opened"), distinct(who, ("clicked",), "clicked"),
            distinct(who, ("opened",), "opened_by_machine", E.c.provider_type.in_(kpi.MACHINE_OPEN_TYPES)),
            sa.func.min(E.c.event_at).label("first_event_at"), sa.func.max(E.c.event_at).label("last_event_at")]


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


def _percentiles(session: Session, where: Any, per_campaign: bool) -> dict[str, float | None]:
    """Nearest-rank p50 / p95 of seconds from the first submission event to the first delivery."""
    key = _message_key(per_campaign)
    secs = _secs(session, E.c.event_at)
    per = (sa.select(sa.func.min(sa.case((E.c.kind.in_(kpi.SUBMITTED_KINDS), secs))).label("s"),
                     sa.func.min(sa.case((E.c.kind == "delivered", secs))).label("d"))
           .where(where).group_by(key).subquery())
    dur = sa.func.round(per.c.d - per.c.s).label("dur")
    timed = sa.select(dur).where(per.c.s.is_not(None), per.c.d.is_not(None), per.c.d >= per.c.s)
    n = session.scalar(sa.select(sa.func.count()).select_from(timed.subquery())) or 0
    out: dict[str, float | None] = {"p50": None, "p95": None}
    for name, p in (("p50", 0.5), ("p95", 0.95)):
        if n:
            value = session.scalar(timed.order_by(dur).limit(1).offset(kpi.rank_offset(n, p)))
            out[name] = float(value)
    return out


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
    row = session.execute(sa.select(*_count_columns(True)).where(where)).mappings().one()
    findings = after_withdrawal(session, where, timedelta(minutes=grace_minutes))
    return {"campaign_id": campaign_id, **_figures(row),
            "delivery_seconds": _percentiles(session, where, True),
            "findings": [f.to_dict() for f in findings]}


def integration_kpis(session: Session, name: str, start: date, end: date, policy: Any | None = None
                     ) -> dict[str, Any]:
    """One integration's figures over ``start``..``end`` (inclusive days), per day, with SLA findings."""
    integration = session.scalar(sa.select(Integration).where(Integration.name == name))
    if integration is None:
        raise DeliveryError(f"no integration named {name!r}")
    lo, hi = _bounds(start, end)
    where = sa.and_(E.c.integration_id == integration.id, E.c.event_at >= lo, E.c.event_at < hi)
    total = session.execute(sa.select(*_count_columns(False)).where(where)).mappings().one()
    day = _day(session, E.c.event_at).label("day")
    days = [{"day": r["day"], **_figures(r)} for r in session.execute(
        sa.select(day, *_count_columns(False)).where(where).group_by(day).order_by(day)).mappings()]
    sla = (policy.sla.get(name) if policy is not None else None)
    figures = _figures(total)
    period = _period(session, integration, where, start, end, figures["counts"], sla)
    findings = kpi.sla_findings(period, sla)
    grace = timedelta(minutes=policy.withdrawal_grace_minutes if policy is not None else 0)
    findings += after_withdrawal(session, where, grace)
    return {"integration": name, "from": start.isoformat(), "to": end.isoformat(), **figures,
            "delivery_seconds": _percentiles(session, where, False), "days": days,
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
    row = session.execute(sa.select(*_count_columns(False)).where(
        sa.or_(*linked), E.c.event_at >= lo, E.c.event_at <= now)).mappings().one()
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
    with services(app).sessions() as s:
        found = domain_spam_rate(s, doc.sender.domain, datetime.now(UTC))
    return MeasuredSpamRate(**found) if found else None
