"""The message roll-up gives the same figures as the events themselves, whatever the arrival order.

Random event streams (duplicates, replays in other batches, out of order, over several days, several
people, messages, campaigns) go through ``ingest`` in random batches; every KPI read from the
roll-up is compared with a recomputation from ``delivery_events`` (the former from-events SQL,
kept here only as the reference). On SQLite and PostgreSQL. The migration's back-fill gives the
same rows as ingestion.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from auditor.delivery import services as svc
from auditor.delivery.models import (
    delivery_days,
    delivery_firsts,
    delivery_latency,
    delivery_messages,
)
from auditor.integrations.models import DeliveryEvent, Integration
from checks import delivery as kpi
from checks.providers import ProviderEvent

E = DeliveryEvent.__table__


# --- the reference: the figures straight from the events (three nested GROUP BYs, a window) --------

def _secs(lite: bool, col: Any) -> Any:
    return sa.func.julianday(col) * 86400.0 if lite else sa.extract("epoch", col)


def _flag(cond: Any, name: str) -> Any:
    return sa.func.max(sa.case((cond, 1), else_=0)).label(name)


def reference(session: Any, where: Any, per_campaign: bool, by_day: bool = False,
              timed: tuple[Any, Any, Any] | None = None) -> list[dict[str, Any]]:
    """The figures of the events ``where`` selects. Per campaign the percentiles time its messages;
    per period (``timed``: the scope's events of all time, first and last day) they time the
    messages first delivered in the period, from their first submission, whenever that was."""
    lite = session.bind.dialect.name == "sqlite"
    day = sa.func.date(E.c.event_at) if lite else sa.func.to_char(sa.func.timezone("UTC", E.c.event_at),
                                                                   "YYYY-MM-DD")
    keys = [E.c.recipient_pseudonym.label("who")]
    if not per_campaign:
        keys.append(sa.func.coalesce(E.c.esp_campaign, sa.cast(E.c.campaign_id, sa.String), "").label("ref"))
    if by_day:
        keys.insert(0, day.label("day"))
    kind, secs = E.c.kind, _secs(lite, E.c.event_at)
    m = sa.select(*keys, _flag(kind.in_(kpi.SENT_KINDS), "sent"), _flag(kind == "delivered", "delivered"),
                  _flag(kind == "hard_bounce", "bounced_hard"), _flag(kind == "soft_bounce", "bounced_soft"),
                  _flag(kind == "deferred", "deferred"), _flag(kind == "dropped", "dropped"),
                  _flag(kind == "complaint", "complaints"), _flag(kind.in_(kpi.UNSUBSCRIBE_KINDS), "unsubscribes"),
                  _flag(kind == "opened", "opened"), _flag(kind == "clicked", "clicked"),
                  _flag(sa.and_(kind == "opened", E.c.provider_type.in_(kpi.MACHINE_OPEN_TYPES)), "machine"),
                  sa.func.min(E.c.event_at).label("first"), sa.func.max(E.c.event_at).label("last"),
                  sa.func.min(sa.case((kind.in_(kpi.SUBMITTED_KINDS), secs))).label("s"),
                  sa.func.min(sa.case((kind == "delivered", secs))).label("d")).where(where).group_by(*keys).cte()
    pkeys = [m.c.day, m.c.who] if by_day else [m.c.who]
    msg_flags = ("sent", "delivered", "bounced_hard", "bounced_soft", "deferred", "dropped")
    person_flags = ("complaints", "unsubscribes", "opened", "clicked", "machine")
    # a soft bounce counts only while the message is not delivered (retried successfully)
    soft = sa.case((sa.and_(m.c.bounced_soft == 1, m.c.delivered == 0), 1), else_=0)
    p = sa.select(*pkeys, *(sa.func.sum(soft if n == "bounced_soft" else m.c[n]).label(n) for n in msg_flags),
                  *(sa.func.max(m.c[n]).label(n) for n in person_flags),
                  sa.func.min(m.c.first).label("first"), sa.func.max(m.c.last).label("last")).group_by(*pkeys).subquery()
    cols = [*(sa.func.sum(p.c[n]).label(n) for n in (*msg_flags, *person_flags)),
            sa.func.min(p.c.first).label("first"), sa.func.max(p.c.last).label("last")]
    if by_day:
        rows = session.execute(sa.select(p.c.day, *cols).group_by(p.c.day).order_by(p.c.day)).mappings()
        return [_shape(r, day=r["day"]) for r in rows]
    (row,) = session.execute(sa.select(*cols)).mappings()
    timing = sa.select(m.c.s, m.c.d)
    if timed is not None:
        scope, first, last = timed
        kind, ref = E.c.kind, sa.func.coalesce(E.c.esp_campaign, sa.cast(E.c.campaign_id, sa.String), "")
        delivered = sa.case((kind == "delivered", E.c.event_at))
        t = sa.select(sa.func.min(sa.case((kind.in_(kpi.SUBMITTED_KINDS), secs))).label("s"),
                      sa.func.min(sa.case((kind == "delivered", secs))).label("d"),
                      sa.func.min(delivered).label("at")).where(scope).group_by(
            E.c.integration_id, E.c.recipient_pseudonym, ref).subquery()
        timing = sa.select(t.c.s, t.c.d).where(t.c.at >= svc._bounds(first, last)[0],
                                              t.c.at < svc._bounds(first, last)[1])
    durs = sorted(round(d - s) for s, d in session.execute(timing) if s is not None
                  and d is not None and d >= s)
    pct = {n: float(durs[kpi.rank_offset(len(durs), q)]) if durs else None for n, q in (("p50", .5), ("p95", .95))}
    return [_shape(row, delivery_seconds=pct)]


def _shape(row: Any, **extra: Any) -> dict[str, Any]:
    counts = {n: int(row[n] or 0) for n in kpi.COUNT_NAMES}
    return {"counts": counts, "machine": int(row["machine"] or 0), "first_event_at": svc._iso(row["first"]),
            "last_event_at": svc._iso(row["last"]), **extra}


def _mine(doc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"counts": doc["counts"], "machine": doc["opens"]["machine"], "first_event_at": doc["first_event_at"],
            "last_event_at": doc["last_event_at"], **extra}


# --- the random streams --------------------------------------------------------------------------

KINDS = ("processed", "sent", "delivered", "delivered", "delivered", "hard_bounce", "soft_bounce", "deferred",
         "dropped", "opened", "opened", "clicked", "complaint", "unsubscribe", "group_unsubscribe", "other")


def random_stream(rng: random.Random, campaign_id: int, base: datetime, n: int) -> list[ProviderEvent]:
    people = [f"person{i}@example.org" for i in range(9)]
    refs = [None, "42b0d1c7a9", "m-1", "m-2", "m-3"]
    out = []
    for i in range(n):
        kind = rng.choice(KINDS)
        machine = kind == "opened" and rng.random() < 0.3
        out.append(ProviderEvent(
            kind=kind, provider_type="machine_open" if machine else kind, recipient=rng.choice(people),
            event_id=f"ev-{i}", occurred_at=base + timedelta(seconds=rng.randrange(0, 3 * 86400)),
            campaign_id=rng.choice([campaign_id, campaign_id, None, 987654]), esp_campaign=rng.choice(refs)))
    return out


def feed_randomly(app: Any, integration: Integration, events: list[ProviderEvent], rng: random.Random) -> None:
    """Shuffled batches; a third of the events again in later batches (replays, other inbox entries)."""
    from auditor.integrations.services import ingest

    stream = events + rng.sample(events, len(events) // 3)
    rng.shuffle(stream)
    inbox, i = 10_000, 0
    while i < len(stream):
        size = rng.randrange(1, 40)
        inbox += 1
        ingest(app, integration, stream[i:i + size], inbox)
        i += size


def test_rollup_figures_equal_the_events_figures(stream):
    h = stream.hooks
    app = h.loop.app
    rng = random.Random(17)
    cid, _token = h.loop.approved(["anna@example.org"], esp={"integration": "sg", "campaign_ref": "42b0d1c7a9"},
                                  stats={"spam_rate": 0.0})
    sessions = app.extensions["auditor"].sessions
    with sessions() as s:
        sg = s.scalar(sa.select(Integration).where(Integration.name == "sg"))
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=4)
    feed_randomly(app, sg, random_stream(rng, cid, base, 400), rng)

    start, end = base.date() + timedelta(days=1), (base + timedelta(days=3)).date()  # cuts messages at both ends
    with sessions() as s:
        for campaign in (h.campaign_id, cid):
            scope = svc.campaign_scope(s, campaign)
            doc = svc.campaign_kpis(s, campaign)
            (ref,) = reference(s, scope.where(E), True)
            assert _mine(doc, delivery_seconds=doc["delivery_seconds"]) == ref
        assert svc.campaign_kpis(s, cid)["counts"]["sent"] >= 5  # the stream reached the second campaign

        # every period from one day to all of them, starting and ending inside messages: the totals
        # summed from the kept flagged days and the kept latency equal the events' figures
        first, mine = base.date(), E.c.integration_id == sg.id
        for a in range(5):
            for b in range(a, 5):
                lo, hi = svc._bounds(first + timedelta(days=a), first + timedelta(days=b))
                where = sa.and_(mine, E.c.event_at >= lo, E.c.event_at < hi)
                doc = svc.integration_kpis(s, "sg", first + timedelta(days=a), first + timedelta(days=b))
                (ref,) = reference(s, where, False, timed=(mine, first + timedelta(days=a), first + timedelta(days=b)))
                assert _mine(doc, delivery_seconds=doc["delivery_seconds"]) == ref, (a, b)
                assert [_mine(d, day=d["day"]) for d in doc["days"]] == reference(s, where, False, by_day=True)
        lo, hi = svc._bounds(start, end)
        doc = svc.integration_kpis(s, "sg", start, end)
        assert len(doc["days"]) == 3 and doc["delivery_seconds"]["p95"] is not None
        # messages span days: the period's total is less than the sum of its days
        assert doc["counts"]["sent"] < sum(d["counts"]["sent"] for d in doc["days"])

        linked = svc.domain_scope(s, "shop.example")
        doc = svc.domain_kpis(s, "shop.example", start, end)
        where = sa.and_(linked(E), E.c.event_at >= lo, E.c.event_at < hi)
        (ref,) = reference(s, where, False, timed=(sa.and_(linked(E), E.c.event_at < hi), start, end))
        assert _mine(doc, delivery_seconds=doc["delivery_seconds"]) == ref
        assert [_mine(d, day=d["day"]) for d in doc["days"]] == reference(s, where, False, by_day=True)
        # the unlinked events (campaign 987654, no ESP id of a campaign) count for the integration only
        assert doc["counts"]["sent"] < svc.integration_kpis(s, "sg", start, end)["counts"]["sent"]

    # the migration's back-fill from the stored events gives the rows ingestion kept
    from auditor.delivery.rollup import backfill

    with app.extensions["auditor"].engine.begin() as conn:
        kept = {t: _rows(conn, t) for t in (delivery_messages, delivery_days, delivery_firsts, delivery_latency)}
        for t in kept:
            conn.execute(sa.delete(t))
        backfill(conn)
        assert {t: _rows(conn, t) for t in kept} == kept
        assert len(kept[delivery_days]) >= 4 and len(kept[delivery_firsts]) > 20 and kept[delivery_latency]


def _rows(conn: Any, table: sa.Table) -> list[tuple]:
    """A table's rows, sorted; additive counts that fell back to 0 are as good as absent."""
    rows = conn.execute(sa.select(table).where(table.c.n != 0) if "n" in table.c else sa.select(table))
    return sorted(map(tuple, rows))


def test_removing_an_integration_removes_its_rollup_rows(stream):
    from auditor.db import transaction
    from auditor.integrations.services import remove_integration

    h = stream.hooks
    assert h.count("delivery_messages") > 0 and h.count("delivery_firsts") > 0 and h.count("delivery_latency") > 0
    with transaction(h.loop.app.extensions["auditor"].sessions) as s:
        remove_integration(s, "sg")
    assert h.count("delivery_messages") == h.count("delivery_days") == h.count("delivery_events") == 0
    assert h.count("delivery_firsts") == h.count("delivery_latency") == 0


def test_the_migration_back_fills_the_rollup_from_stored_events(stream):
    from alembic import command

    from auditor.migrations import alembic_config, current, upgrade

    engine = stream.hooks.loop.app.extensions["auditor"].engine
    tables = (delivery_messages, delivery_days, delivery_firsts, delivery_latency)
    with engine.connect() as conn:
        kept = {t.name: _rows(conn, t) for t in tables}
    assert all(kept.values())
    heads = current(engine)
    command.downgrade(alembic_config(engine), "0012_delivery")
    assert "0013_delivery_rollup" not in current(engine)
    assert not {t.name for t in tables} & set(sa.inspect(engine).get_table_names())
    upgrade(engine)
    assert current(engine) == heads
    with engine.connect() as conn:
        assert {t.name: _rows(conn, t) for t in tables} == kept
