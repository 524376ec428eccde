"""The message roll-up: one row per message and UTC day, kept in the events' own transaction.

``delivery_messages`` holds, per (integration, day, recipient, message ref, ESP campaign id,
Auditor campaign id), the OR of what happened (flags), the first and last event time and the
first submission and delivery time of that day. The KPIs (``services``) read these rows instead
of the events: five events make one row, and the innermost GROUP BY is already done.

One SELECT defines a row (``_rows``); ingestion (``record``), the migration's back-fill and the
bench all insert it with ``INSERT .. SELECT .. ON CONFLICT DO UPDATE`` (flags: max, times: min /
max). Applying an event twice, late or out of order gives the same row: the figures are exact.

``delivery_days`` holds per integration and day that day's counts (messages and people). A batch
adds to it the change of the figures of the (day, person) pairs it touched: their figures
(``day_figures``) read before and after its upsert; the back-fill rebuilds it from the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from auditor.delivery.models import (
    FLAGS,
    MESSAGE_FLAGS,
    MESSAGE_KEY,
    PERSON_FLAGS,
    delivery_days,
    delivery_messages,
)
from checks import delivery as kpi

R = delivery_messages
D = delivery_days
CHUNK = 500
LOCK = 1_700_017  # pg_advisory_xact_lock(LOCK, integration id): one batch's day figures at a time


def _events() -> sa.Table:
    from auditor.integrations.models import DeliveryEvent

    return DeliveryEvent.__table__


def _is_sqlite(bind: Any) -> bool:
    return (getattr(bind, "bind", None) or bind).dialect.name == "sqlite"


def day_of(lite: bool, col: Any) -> Any:
    """The UTC day of a timestamp column (a DATE)."""
    if lite:
        return sa.func.date(col, type_=sa.Date)
    return sa.cast(sa.func.timezone("UTC", col), sa.Date)


def unix_seconds(lite: bool, col: Any) -> Any:
    """Unix seconds of a timestamp column as a double."""
    if lite:
        return (sa.func.julianday(col) - 2440587.5) * 86400.0
    return sa.cast(sa.extract("epoch", col), sa.Float)


def _rows(lite: bool, where: Any) -> sa.Select:
    """The roll-up rows of the events ``where`` selects (one GROUP BY)."""
    e = _events().c
    kind = e.kind

    def flag(cond: Any) -> Any:
        return sa.func.max(sa.case((cond, 1), else_=0))

    secs = unix_seconds(lite, e.event_at)
    flags = {"sent": flag(kind.in_(kpi.SENT_KINDS)), "delivered": flag(kind == "delivered"),
             "bounced_hard": flag(kind == "hard_bounce"), "bounced_soft": flag(kind == "soft_bounce"),
             "deferred": flag(kind == "deferred"), "dropped": flag(kind == "dropped"),
             "complaints": flag(kind == "complaint"), "unsubscribes": flag(kind.in_(kpi.UNSUBSCRIBE_KINDS)),
             "opened": flag(kind == "opened"), "clicked": flag(kind == "clicked"),
             "opened_by_machine": flag(sa.and_(kind == "opened", e.provider_type.in_(kpi.MACHINE_OPEN_TYPES)))}
    keys = [e.integration_id, day_of(lite, e.event_at), e.recipient_pseudonym,
            sa.func.coalesce(e.esp_campaign, sa.cast(e.campaign_id, sa.String), ""),
            sa.func.coalesce(e.esp_campaign, ""), sa.func.coalesce(e.campaign_id, 0)]
    cols = [*(k.label(n) for k, n in zip(keys, MESSAGE_KEY, strict=True)),
            *(flags[n].label(n) for n in FLAGS),
            sa.func.min(e.event_at).label("first_event_at"), sa.func.max(e.event_at).label("last_event_at"),
            sa.func.min(sa.case((kind.in_(kpi.SUBMITTED_KINDS), secs))).label("submitted_s"),
            sa.func.min(sa.case((kind == "delivered", secs))).label("delivered_s")]
    return sa.select(*cols).where(where).group_by(*keys)


def _most(lite: bool, a: Any, b: Any) -> Any:
    return sa.func.max(a, b) if lite else sa.func.greatest(a, b)


def _least(lite: bool, a: Any, b: Any) -> Any:
    """The smaller, NULL only when both are (SQLite's min(a, NULL) is NULL)."""
    return sa.func.min(sa.func.coalesce(a, b), sa.func.coalesce(b, a)) if lite else sa.func.least(a, b)


def _upsert(lite: bool, where: Any) -> Any:
    """INSERT the rows of the events ``where`` selects, merging each into its stored row."""
    ins = (sqlite.insert if lite else postgresql.insert)(R)
    rows = _rows(lite, where)
    ex = ins.excluded

    merged = {n: _most(lite, R.c[n], ex[n]) for n in (*FLAGS, "last_event_at")}
    merged.update({n: _least(lite, R.c[n], ex[n]) for n in ("first_event_at", "submitted_s", "delivered_s")})
    return (ins.from_select([c.name for c in rows.selected_columns], rows)
            .on_conflict_do_update(index_elements=list(MESSAGE_KEY), set_=merged))


def day_figures(where: Any) -> sa.Select:
    """Per integration and day, of the message rows ``where`` selects: messages (person + ref) and
    people with each flag, first and last event time."""
    c = R.c
    day_keys = [c.integration_id, c.day]
    m = (sa.select(*day_keys, *(sa.func.max(c[n]).label(n) for n in MESSAGE_FLAGS)).where(where)
         .group_by(*day_keys, c.recipient_pseudonym, c.ref).subquery("m"))
    p = (sa.select(*day_keys, *(sa.func.max(c[n]).label(n) for n in PERSON_FLAGS),
                   sa.func.min(c.first_event_at).label("first_event_at"),
                   sa.func.max(c.last_event_at).label("last_event_at")).where(where)
         .group_by(*day_keys, c.recipient_pseudonym).subquery("p"))
    ms = (sa.select(m.c.integration_id, m.c.day, *(sa.func.sum(m.c[n]).label(n) for n in MESSAGE_FLAGS))
          .group_by(m.c.integration_id, m.c.day).subquery("ms"))
    ps = (sa.select(p.c.integration_id, p.c.day, *(sa.func.sum(p.c[n]).label(n) for n in PERSON_FLAGS),
                    sa.func.min(p.c.first_event_at).label("first_event_at"),
                    sa.func.max(p.c.last_event_at).label("last_event_at"))
          .group_by(p.c.integration_id, p.c.day).subquery("ps"))
    return (sa.select(ps.c.integration_id, ps.c.day, *(ms.c[n] for n in MESSAGE_FLAGS),
                      *(ps.c[n] for n in PERSON_FLAGS), ps.c.first_event_at, ps.c.last_event_at)
            .select_from(ps.join(ms, sa.and_(ms.c.integration_id == ps.c.integration_id, ms.c.day == ps.c.day))))


def record(conn: Any, integration_id: int, inbox_id: int | None, event_ids: Sequence[str]) -> None:
    """Roll up the events this batch stored (``delivery_events.inbox_id`` = the batch's entry).

    Called in the transaction that inserted them; events that were already stored (a replay)
    belong to their first entry and were rolled up then.
    """
    e = _events().c
    lite = _is_sqlite(conn)
    if not lite:  # SQLite's write transaction is already the only one
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK, integration_id)))
    mine = e.inbox_id.is_(None) if inbox_id is None else e.inbox_id == inbox_id
    for n in range(0, len(event_ids), CHUNK):
        batch = sa.and_(e.integration_id == integration_id, mine, e.provider_event_id.in_(list(event_ids[n:n + CHUNK])))
        keys = conn.execute(sa.select(day_of(lite, e.event_at), e.recipient_pseudonym).where(batch).distinct()).all()
        if not keys:
            continue
        by_day: dict[Any, list[str]] = {}
        for day, who in keys:
            by_day.setdefault(day, []).append(who)
        # one index range per day (a row-value IN would make SQLite scan the integration's rows)
        touched = day_figures(sa.or_(*(sa.and_(R.c.integration_id == integration_id, R.c.day == day,
                                               R.c.recipient_pseudonym.in_(whos)) for day, whos in by_day.items())))
        before = {r.day: r for r in conn.execute(touched)}
        conn.execute(_upsert(lite, batch))
        changes = []
        for r in conn.execute(touched).mappings():
            old = before.get(r["day"])
            changes.append({**r, **{n: r[n] - (getattr(old, n) if old is not None else 0) for n in FLAGS}})
        _add_days(conn, lite, changes)


def _add_days(conn: Any, lite: bool, changes: list[dict[str, Any]]) -> None:
    """Add each change to its day's figures (a new day starts from it)."""
    ins = (sqlite.insert if lite else postgresql.insert)(D)
    ex = ins.excluded
    merged = {n: D.c[n] + ex[n] for n in FLAGS}
    merged.update(first_event_at=_least(lite, D.c.first_event_at, ex.first_event_at),
                  last_event_at=_most(lite, D.c.last_event_at, ex.last_event_at))
    conn.execute(ins.on_conflict_do_update(index_elements=["integration_id", "day"], set_=merged), changes)


def backfill(conn: Any, where: Any = None) -> None:
    """Roll up every stored event (the migration), or those ``where`` selects, in one statement;
    then rebuild the day figures from the message rows (a second)."""
    conn.execute(_upsert(_is_sqlite(conn), sa.true() if where is None else where))
    conn.execute(sa.delete(D))
    rows = day_figures(sa.true())
    conn.execute(D.insert().from_select([c.name for c in rows.selected_columns], rows))
