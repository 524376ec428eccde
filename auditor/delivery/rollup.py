"""The message roll-up: one row per message and UTC day, kept in the events' own transaction.

``delivery_messages`` holds, per (integration, day, recipient, message ref, ESP campaign id,
Auditor campaign id), the OR of what happened (flags), the first and last event time and the
first submission and delivery time of that day. The KPIs (``services``) read these rows instead
of the events: five events make one row, and the innermost GROUP BY is already done.

One SELECT defines a row (``_rows``); ingestion (``record``), the migration's back-fill and the
bench all insert it with ``INSERT .. SELECT .. ON CONFLICT DO UPDATE`` (flags: max, times: min /
max). Applying an event twice, late or out of order gives the same row: the figures are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from auditor.delivery.models import FLAGS, MESSAGE_KEY, delivery_messages
from checks import delivery as kpi

R = delivery_messages
CHUNK = 500


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


def _upsert(lite: bool, where: Any) -> Any:
    """INSERT the rows of the events ``where`` selects, merging each into its stored row."""
    ins = (sqlite.insert if lite else postgresql.insert)(R)
    rows = _rows(lite, where)
    ex = ins.excluded

    def most(a: Any, b: Any) -> Any:
        return sa.func.max(a, b) if lite else sa.func.greatest(a, b)

    def least(a: Any, b: Any) -> Any:  # NULL only when both are (SQLite's min(a, NULL) is NULL)
        return sa.func.min(sa.func.coalesce(a, b), sa.func.coalesce(b, a)) if lite else sa.func.least(a, b)

    merged = {n: most(R.c[n], ex[n]) for n in (*FLAGS, "last_event_at")}
    merged.update({n: least(R.c[n], ex[n]) for n in ("first_event_at", "submitted_s", "delivered_s")})
    return (ins.from_select([c.name for c in rows.selected_columns], rows)
            .on_conflict_do_update(index_elements=list(MESSAGE_KEY), set_=merged))


def record(conn: Any, integration_id: int, inbox_id: int | None, event_ids: Sequence[str]) -> None:
    """Roll up the events this batch stored (``delivery_events.inbox_id`` = the batch's entry).

    Called in the transaction that inserted them; events that were already stored (a replay)
    belong to their first entry and were rolled up then.
    """
    e = _events().c
    lite = _is_sqlite(conn)
    mine = e.inbox_id.is_(None) if inbox_id is None else e.inbox_id == inbox_id
    for n in range(0, len(event_ids), CHUNK):
        conn.execute(_upsert(lite, sa.and_(e.integration_id == integration_id, mine,
                                           e.provider_event_id.in_(list(event_ids[n:n + CHUNK])))))


def backfill(conn: Any, where: Any = None) -> None:
    """Roll up every stored event (the migration), or those ``where`` selects, in one statement."""
    conn.execute(_upsert(_is_sqlite(conn), sa.true() if where is None else where))
