"""Delivery KPIs from the message roll-up in SQL aggregates, SLA and after-withdrawal findings.

The figures read ``delivery_messages`` (one row per message and UTC day, kept at ingestion:
``rollup.py``), not the events: a message is the recipient within the campaign (per campaign)
or the recipient with the ESP's message / campaign id (per integration and per sending domain);
opens, clicks, complaints and unsubscribes count people. Every figure is a GROUP BY in SQL (no
Python loop over rows); percentiles come from a histogram of whole seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auditor.db import is_sqlite
from auditor.delivery.models import (
    FLAGS,
    MESSAGE_FLAGS,
    PERSON_FLAGS,
    delivery_days,
    delivery_firsts,
    delivery_latency,
    delivery_messages,
    message_count,
)
from auditor.delivery.rollup import SOFT_OR_DELIVERED, latency_of, latency_seconds
from auditor.integrations.models import DeliveryEvent, Integration
from checks import delivery as kpi
from consent_ledger.schema import events as ledger_events

E = DeliveryEvent.__table__
R = delivery_messages
D = delivery_days  # per integration and day, kept at ingestion
F = delivery_firsts  # the period totals, additive (rollup.py)
L = delivery_latency  # submission-to-delivery seconds per day of first delivery


class DeliveryError(LookupError):
    """No such campaign, integration or sending domain; the message says which."""


def _secs(session: Session, col: Any) -> Any:
    """Seconds since an epoch of a timestamp column, in the dialect's own function."""
    if is_sqlite(session):
        return sa.func.julianday(col) * 86400.0
    return sa.extract("epoch", col)


def _grouped(where: Any, keys: list[Any], flags: tuple[str, ...], times: bool = True) -> Any:
    """Roll-up rows ``where`` selects grouped by ``keys``: OR of ``flags``, first / last event times."""
    cols = [*(sa.func.max(R.c[n]).label(n) for n in flags)]
    if times:
        cols += [sa.func.min(R.c.first_event_at).label("first_event_at"),
                 sa.func.max(R.c.last_event_at).label("last_event_at")]
    return sa.select(*keys, *cols).where(where).group_by(*keys)


def _figures_rows(session: Session, where: Any, per_campaign: bool, latency: Any = None) -> dict[str, Any]:
    """A scope's counts and nearest-rank p50 / p95 of submission-to-delivery seconds.

    Per campaign, messages (people) are summed in one pass grouped by their whole seconds from
    first submission to first delivery (the histogram of the percentiles). Per sending domain,
    messages (person + ESP id) and people are counted in two GROUP BYs; the histogram is
    ``latency``'s (seconds, messages) rows, if given.
    """
    who = R.c.recipient_pseudonym
    out: dict[str, Any] = {n: 0 for n in FLAGS}
    out["first_event_at"] = out["last_event_at"] = None
    histogram = []
    if per_campaign:
        dur = latency_seconds(sa.func.min(R.c.submitted_s), sa.func.min(R.c.delivered_s)).label("dur")
        m = _grouped(where, [who, dur], FLAGS).group_by(None).group_by(who).subquery("m")
        for row in session.execute(sa.select(m.c.dur, sa.func.count().label("n"), *_sums(m, FLAGS),
                                             sa.func.min(m.c.first_event_at).label("first_event_at"),
                                             sa.func.max(m.c.last_event_at).label("last_event_at"))
                                   .group_by(m.c.dur)).mappings():
            for n in FLAGS:
                out[n] += int(row[n] or 0)
            _span(out, row)
            if row["dur"] is not None:
                histogram.append((float(row["dur"]), int(row["n"])))
    else:
        m = _grouped(where, [who, R.c.ref], MESSAGE_FLAGS, False).subquery("m")
        row = session.execute(sa.select(*_sums(m, MESSAGE_FLAGS))).mappings().one()
        out.update({n: int(row[n] or 0) for n in MESSAGE_FLAGS})
        p = _grouped(where, [who], PERSON_FLAGS).subquery("p")
        row = session.execute(sa.select(*_sums(p, PERSON_FLAGS), sa.func.min(p.c.first_event_at).label("first_event_at"),
                                         sa.func.max(p.c.last_event_at).label("last_event_at"))).mappings().one()
        out.update({n: int(row[n] or 0) for n in PERSON_FLAGS})
        _span(out, row)
        if latency is not None:
            histogram = [(float(secs), int(n)) for secs, n in session.execute(latency)]
    out.update(_percentiles(sorted(histogram)))
    return out


def _sums(sub: Any, names: tuple[str, ...]) -> list[Any]:
    return [message_count(sub, n) for n in names]


def _span(out: dict[str, Any], row: Mapping[str, Any]) -> None:
    """Widen ``out``'s first / last event time to ``row``'s."""
    for name, pick in (("first_event_at", min), ("last_event_at", max)):
        if row[name] is not None:
            value = _aware(row[name])
            out[name] = value if out[name] is None else pick(out[name], value)


def _percentiles(histogram: list[tuple[float, int]]) -> dict[str, float | None]:
    """Nearest-rank p50 / p95 of a sorted (seconds, messages) histogram."""
    n = sum(c for _d, c in histogram)
    out: dict[str, float | None] = {}
    for name, p in (("p50", 0.5), ("p95", 0.95)):
        out[name] = None
        if n:
            rank, seen = kpi.rank_offset(n, p), 0
            for secs, count in histogram:
                seen += count
                if seen > rank:
                    out[name] = secs
                    break
    return out


def _day_rows(session: Session, where: Any) -> list[Any]:
    """The same counts per UTC day (messages and people of that day): two streaming GROUP BYs each."""
    day, who = R.c.day, R.c.recipient_pseudonym
    m = _grouped(where, [day.label("day"), who, R.c.ref], MESSAGE_FLAGS, False).subquery("m")
    p = _grouped(where, [day.label("day"), who], PERSON_FLAGS).subquery("p")
    msgs = {r["day"]: r for r in session.execute(
        sa.select(m.c.day, *_sums(m, MESSAGE_FLAGS)).group_by(m.c.day)).mappings()}
    people = session.execute(
        sa.select(p.c.day, *(sa.func.sum(p.c[n]).label(n) for n in PERSON_FLAGS),
                  sa.func.min(p.c.first_event_at).label("first_event_at"),
                  sa.func.max(p.c.last_event_at).label("last_event_at")).group_by(p.c.day).order_by(p.c.day))
    return [{**msgs[r["day"]], **r} for r in people.mappings()]


def _aware(ts: Any) -> datetime:
    if isinstance(ts, str):  # SQLite returns aggregates of timestamps as text
        ts = datetime.fromisoformat(ts)
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _iso(ts: Any) -> str | None:
    return None if ts is None else _aware(ts).isoformat()


def _figures(row: Mapping[str, Any]) -> dict[str, Any]:
    counts = {n: int(row[n] or 0) for n in kpi.COUNT_NAMES}
    machine = int(row["opened_by_machine"] or 0)
    return {"counts": counts, "rates": kpi.rates(counts),
            "opens": {"machine": machine, "reliable": machine == 0},
            "first_event_at": _iso(row["first_event_at"]), "last_event_at": _iso(row["last_event_at"])}


def _seconds(row: Mapping[str, Any]) -> dict[str, float | None]:
    return {k: row[k] for k in ("p50", "p95")}


def _day_text(day: Any) -> str:
    return day if isinstance(day, str) else day.isoformat()


# --- scopes --------------------------------------------------------------------------------------

Linked = Callable[[sa.Table], Any]  # the same condition on delivery_events and on delivery_messages


def _by_ref(table: sa.Table, refs: list[tuple[int, str]]) -> list[Any]:
    return [sa.and_(table.c.integration_id == iid, table.c.esp_campaign == ref) for iid, ref in refs]


@dataclass(frozen=True)
class CampaignScope:
    """A campaign and how its events are recognised."""

    campaign_id: int
    integration: Integration | None
    campaign_ref: str | None

    def where(self, table: sa.Table = E) -> Any:
        """Events (or roll-up rows) of the campaign: Auditor's id in the payload, or the ESP's campaign id."""
        linked = table.c.campaign_id == self.campaign_id
        if self.integration is not None and self.campaign_ref:
            linked = sa.or_(linked, *_by_ref(table, [(self.integration.id, self.campaign_ref)]))
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


def sending_domains(session: Session) -> list[str]:
    """The sender domains of the stored email campaigns, sorted."""
    from auditor.campaigns.models import Campaign

    docs = session.scalars(sa.select(Campaign.document).where(Campaign.channel == "email"))
    return sorted({d for d in (((doc or {}).get("sender") or {}).get("domain") for doc in docs) if d})


def domain_scope(session: Session, domain: str) -> Linked | None:
    """The events of the email campaigns sending from ``domain`` (by id or ESP campaign id), or None."""
    from auditor.campaigns.models import Campaign

    ids, wanted = [], []
    for cid, doc in session.execute(sa.select(Campaign.id, Campaign.document).where(Campaign.channel == "email")):
        if ((doc or {}).get("sender") or {}).get("domain") == domain:
            ids.append(cid)
            esp = doc.get("esp") or {}
            if esp.get("integration") and esp.get("campaign_ref"):
                wanted.append((esp["integration"], esp["campaign_ref"]))
    if not ids:
        return None
    names = dict(session.execute(sa.select(Integration.name, Integration.id)
                                 .where(Integration.name.in_({w[0] for w in wanted}))).all()) if wanted else {}
    refs = [(names[n], ref) for n, ref in wanted if n in names]
    return lambda table: sa.or_(table.c.campaign_id.in_(ids), *_by_ref(table, refs))


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def _day(t: Any, by_link: bool) -> Any:
    """A roll-up table's day column; ``by_link``: as an expression no index serves, so that the
    planner reads a domain's rows by their campaign links (campaign id, ESP id indexes: the
    domain's rows) rather than the primary key's day range (every integration's rows that day)."""
    return sa.func.coalesce(t.c.day, t.c.day) if by_link else t.c.day


def _in_period(linked: Linked, start: date, end: date, by_link: bool = False) -> tuple[Any, Any]:
    """The roll-up rows and the events of ``linked`` over ``start``..``end`` (inclusive UTC days)."""
    lo, hi = _bounds(start, end)
    day = _day(R, by_link)
    return (sa.and_(linked(R), day >= start, day <= end),
            sa.and_(linked(E), E.c.event_at >= lo, E.c.event_at < hi))


# --- KPIs ----------------------------------------------------------------------------------------

def campaign_kpis(session: Session, campaign_id: int, grace_minutes: int = 0) -> dict[str, Any]:
    """The INTERFACES.md campaign delivery document, with DELIVERY-AFTER-WITHDRAWAL findings."""
    scope = campaign_scope(session, campaign_id)
    row = _figures_rows(session, scope.where(R), True)
    findings = after_withdrawal(session, scope.where(R), scope.where(E), timedelta(minutes=grace_minutes))
    return {"campaign_id": campaign_id, **_figures(row),
            "delivery_seconds": _seconds(row),
            "findings": [f.to_dict() for f in findings]}


def _days(rows: Any) -> list[dict[str, Any]]:
    return [{"day": _day_text(r["day"]), **_figures(r)} for r in rows]


def _kept_figures(session: Session, integration_id: int, start: date, end: date) -> dict[str, Any]:
    """An integration's period figures from what ingestion keeps: the totals summed from the
    flagged days whose previous day with the flag is before the period (``delivery_firsts``), the
    percentiles from the latency histogram, the days from ``delivery_days``; a few thousand rows
    whatever the number of events."""
    days = list(session.execute(sa.select(D).where(D.c.integration_id == integration_id, D.c.day >= start,
                                                   D.c.day <= end).order_by(D.c.day)).mappings())
    out: dict[str, Any] = {n: 0 for n in FLAGS}
    out["first_event_at"] = out["last_event_at"] = None
    for flag, n in session.execute(sa.select(F.c.flag, sa.func.sum(F.c.n)).where(
            F.c.integration_id == integration_id, F.c.day >= start, F.c.day <= end, F.c.previous < start)
            .group_by(F.c.flag)):
        out[flag] = int(n)
    out["bounced_soft"] = out.pop(SOFT_OR_DELIVERED, 0) - out["delivered"]  # soft bounces not delivered
    for r in days:
        _span(out, r)
    histogram = session.execute(sa.select(L.c.seconds, sa.func.sum(L.c.n)).where(
        L.c.integration_id == integration_id, L.c.day >= start, L.c.day <= end, L.c.n != 0)
        .group_by(L.c.seconds).order_by(L.c.seconds))
    out.update(_percentiles([(float(secs), int(n)) for secs, n in histogram]))
    return {**_figures(out), "delivery_seconds": _seconds(out), "days": _days(days)}


def _domain_latency(linked: Linked, start: date, end: date) -> sa.Select:
    """(seconds, messages) of the domain's messages first delivered in the period, timed from their
    first submission (also before the period): the messages delivered in it, then all their days."""
    c, r2 = R.c, R.alias("r2")
    day = _day(R, True)
    msgs = (sa.select(c.integration_id, c.recipient_pseudonym, c.ref)
            .where(linked(R), day >= start, day <= end, c.delivered == 1).distinct().subquery("k"))
    keys = [msgs.c.integration_id, msgs.c.recipient_pseudonym, msgs.c.ref]
    per = latency_of(sa.and_(linked(r2), _day(r2, True) <= end), keys, r2).select_from(msgs.join(r2, sa.and_(
        r2.c.integration_id == msgs.c.integration_id, r2.c.recipient_pseudonym == msgs.c.recipient_pseudonym,
        r2.c.ref == msgs.c.ref))).subquery("per")
    return (sa.select(per.c.seconds, sa.func.count()).where(per.c.day >= start, per.c.day <= end,
                                                            per.c.seconds.is_not(None))
            .group_by(per.c.seconds))


def integration_kpis(session: Session, name: str, start: date, end: date, policy: Any | None = None
                     ) -> dict[str, Any]:
    """One integration's figures over ``start``..``end`` (inclusive days), per day, with SLA findings."""
    integration = session.scalar(sa.select(Integration).where(Integration.name == name))
    if integration is None:
        raise DeliveryError(f"no integration named {name!r}")
    rows, events = _in_period(lambda t: t.c.integration_id == integration.id, start, end)
    figures = _kept_figures(session, integration.id, start, end)
    sla = (policy.sla.get(name) if policy is not None else None)
    period = _period(session, integration, events, start, end, figures["counts"], sla)
    findings = kpi.sla_findings(period, sla)
    findings += after_withdrawal(session, rows, events, _grace(policy))
    return {"integration": name, "from": start.isoformat(), "to": end.isoformat(), **figures,
            "sla": sla.model_dump() if sla is not None else None,
            "findings": [f.to_dict() for f in findings]}


def domain_kpis(session: Session, domain: str, start: date, end: date, policy: Any | None = None,
                totals_only: bool = False) -> dict[str, Any]:
    """A sending domain's figures over a period, per day: the events of its campaigns, every integration.
    ``totals_only``: its counts and rates alone (a table row: no days, percentiles or findings)."""
    domain = domain.strip().lower().rstrip(".")
    linked = domain_scope(session, domain)
    if linked is None:
        raise DeliveryError(f"no email campaign sends from {domain!r}")
    rows, events = _in_period(linked, start, end, by_link=True)
    if totals_only:
        return {"domain": domain, "from": start.isoformat(), "to": end.isoformat(),
                **_figures(_figures_rows(session, rows, False))}
    total = _figures_rows(session, rows, False, _domain_latency(linked, start, end))
    figures = {**_figures(total), "delivery_seconds": _seconds(total), "days": _days(_day_rows(session, rows))}
    findings = after_withdrawal(session, rows, events, _grace(policy))
    return {"domain": domain, "from": start.isoformat(), "to": end.isoformat(), **figures,
            "findings": [f.to_dict() for f in findings]}


def _grace(policy: Any | None) -> timedelta:
    return timedelta(minutes=policy.withdrawal_grace_minutes if policy is not None else 0)


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

def after_withdrawal(session: Session, rows: Any, events: Any, grace: timedelta) -> list[Any]:
    """DELIVERY-AFTER-WITHDRAWAL findings among the delivered events ``events`` selects.

    The people come from the roll-up rows ``rows`` selects (delivered, with a stop in the ledger:
    usually few); only their delivered events are read.
    """
    i = Integration.__table__
    le = ledger_events
    stopped = sa.and_(le.c.pseudonym == R.c.recipient_pseudonym, le.c.type.in_(kpi.STOP_TYPES), sa.or_(
        le.c.type == "erased", sa.and_(le.c.channel == i.c.channel, le.c.purpose == i.c.purpose)))
    people = list(session.scalars(
        sa.select(R.c.recipient_pseudonym).distinct().select_from(R.join(i, i.c.id == R.c.integration_id))
        .where(rows, R.c.delivered == 1, sa.exists().where(stopped))))
    found = []
    for n in range(0, len(people), 500):
        found += session.execute(
            sa.select(E.c.recipient_pseudonym, E.c.event_at, E.c.provider_event_id, E.c.campaign_id, i.c.name,
                      i.c.channel, i.c.purpose)
            .select_from(E.join(i, i.c.id == E.c.integration_id))
            .where(events, E.c.kind == "delivered", E.c.recipient_pseudonym.in_(people[n:n + 500]))).all()
    if not found:
        return []
    wanted = {(r.recipient_pseudonym, r.channel, r.purpose) for r in found}
    history: dict[str, list[kpi.LedgerMark]] = {}
    people = sorted({w[0] for w in wanted})
    for n in range(0, len(people), 500):
        for seq, p, type_, channel, purpose, recorded in session.execute(
                sa.select(le.c.seq, le.c.pseudonym, le.c.type, le.c.channel, le.c.purpose, le.c.recorded_at)
                .where(le.c.pseudonym.in_(people[n:n + 500]))):
            if type_ == "erased" or (p, channel, purpose) in wanted:
                history.setdefault(p, []).append(kpi.LedgerMark(seq, type_, _parse(recorded)))
    deliveries = [kpi.Delivery(r.recipient_pseudonym, _parse(r.event_at), r.provider_event_id, r.name,
                               r.campaign_id) for r in found]
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
    """Complaints (people) over delivered (messages) of the domain's campaigns over the last 30 days.

    Whole UTC days from 30 days ago to today, messages whose first event that day is not in the future.
    """
    linked = domain_scope(session, domain)
    if linked is None:
        return None
    lo = now - timedelta(days=MEASURE_DAYS)
    rows, _events = _in_period(linked, lo.date(), now.date(), by_link=True)
    row = _figures_rows(session, sa.and_(rows, R.c.first_event_at <= now), False)
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
