"""The message roll-up: one row per message and UTC day, kept in the events' own transaction.

``delivery_messages`` holds, per (integration, day, recipient, message ref, ESP campaign id,
Auditor campaign id), the OR of what happened (flags), the first and last event time and the
first submission and delivery time of that day. The KPIs (``services``) read these rows instead
of the events: five events make one row, and the innermost GROUP BY is already done.

One SELECT defines a row (``_rows``); ingestion (``record``), the migration's back-fill and the
bench all insert it with ``INSERT .. SELECT .. ON CONFLICT DO UPDATE`` (flags: max, times: min /
max). Applying an event twice, late or out of order gives the same row: the figures are exact.

``delivery_days`` holds per integration and day that day's counts (messages and people);
``delivery_firsts`` an integration's period totals, additive: per flag and day, how many
messages (people) had that flag that day, by the previous day they had it, so that a period
counts the ones whose previous day is before it; ``delivery_latency`` per day of first delivery
the messages' whole seconds from first submission. A batch reads the message rows of the
(day, person) pairs it touches and its messages' first submission and delivery before and after
its upsert, and adds what changed; a flag newly set on a day is linked to the previous and next
day with that flag of its message (person), found by index: a recipient's history is never
re-read. The back-fill (``rebuild``) builds the three from the message rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from auditor.db import dialect_insert, is_sqlite
from auditor.delivery.models import (
    FLAGS,
    MESSAGE_FLAGS,
    MESSAGE_KEY,
    NO_DAY,
    PERSON_FLAGS,
    delivery_days,
    delivery_firsts,
    delivery_latency,
    delivery_messages,
    message_count,
)
from checks import delivery as kpi

R = delivery_messages
D = delivery_days
F = delivery_firsts
L = delivery_latency
CHUNK = 500
LOCK = 1_700_017  # pg_advisory_xact_lock(LOCK, integration id): one batch's read-and-add at a time


def _events() -> sa.Table:
    from auditor.integrations.models import DeliveryEvent

    return DeliveryEvent.__table__


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
    keys = [e.integration_id, day_of(lite, e.event_at), e.recipient_pseudonym, _ref(e),
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


def _upsert(conn: Any, where: Any) -> Any:
    """INSERT the rows of the events ``where`` selects, merging each into its stored row."""
    lite = is_sqlite(conn)
    ins = dialect_insert(conn)(R)
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
    ms = (sa.select(m.c.integration_id, m.c.day, *(message_count(m, n) for n in MESSAGE_FLAGS))
          .group_by(m.c.integration_id, m.c.day).subquery("ms"))
    ps = (sa.select(p.c.integration_id, p.c.day, *(sa.func.sum(p.c[n]).label(n) for n in PERSON_FLAGS),
                    sa.func.min(p.c.first_event_at).label("first_event_at"),
                    sa.func.max(p.c.last_event_at).label("last_event_at"))
          .group_by(p.c.integration_id, p.c.day).subquery("ps"))
    return (sa.select(ps.c.integration_id, ps.c.day, *(ms.c[n] for n in MESSAGE_FLAGS),
                      *(ps.c[n] for n in PERSON_FLAGS), ps.c.first_event_at, ps.c.last_event_at)
            .select_from(ps.join(ms, sa.and_(ms.c.integration_id == ps.c.integration_id, ms.c.day == ps.c.day))))


# The flags whose period totals are kept: a message's soft bounce counts only while it is not
# delivered, so the totals keep "soft bounce or delivered" (soft = that - delivered).
SOFT_OR_DELIVERED = "soft_or_delivered"
TOTALS = (*(n for n in MESSAGE_FLAGS if n != "bounced_soft"), SOFT_OR_DELIVERED, *PERSON_FLAGS)


def flagged(t: Any, flag: str) -> Any:
    """The rows of ``t`` with ``flag`` (of TOTALS)."""
    if flag == SOFT_OR_DELIVERED:
        return sa.or_(t.c.bounced_soft == 1, t.c.delivered == 1)
    return t.c[flag] == 1


def _has(row: Mapping[str, Any], flag: str) -> bool:
    if flag == SOFT_OR_DELIVERED:
        return bool(row["bounced_soft"] or row["delivered"])
    return bool(row[flag])


def _soft(row: Mapping[str, Any] | None) -> int:
    return int(row is not None and bool(row["bounced_soft"]) and not row["delivered"])


def _ref(e: Any) -> Any:
    """The message of an event per integration: the ESP's message / campaign id, else Auditor's campaign id."""
    return sa.func.coalesce(e.esp_campaign, sa.cast(e.campaign_id, sa.String), "")


def record(conn: Any, integration_id: int, ids: Sequence[int]) -> None:
    """Roll up the events this batch stored (``ids``: the ``delivery_events.id`` its INSERT returned).

    Called in the transaction that inserted them; events that were already stored (a replay)
    belong to their first entry and were rolled up then. The events are found by primary key, so
    no planner estimate (a new integration on a large table) can turn it into a scan. The message
    rows of the (day, person) pairs the batch touches are read before and after its upsert: what
    changed is added to the day figures, and each flag newly set on a day is linked to the
    neighbouring days with that flag (found by index) in the period totals; the batch's messages'
    first submission and delivery are read before and after too (latency).
    """
    e = _events().c
    lite = is_sqlite(conn)
    if not lite:  # SQLite's write transaction is already the only one
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK, integration_id)))
    for n in range(0, len(ids), CHUNK):
        batch = e.id.in_(list(ids[n:n + CHUNK]))
        keys = conn.execute(sa.select(day_of(lite, e.event_at), e.recipient_pseudonym).where(batch).distinct()).all()
        if not keys:
            continue
        by_day: dict[Any, set[str]] = {}
        for day, who in keys:
            by_day.setdefault(day, set()).add(who)
        touched = _touched(R, integration_id, by_day)
        # only a submission or a delivery can move a message's latency (opens and clicks cannot)
        messages = (sa.select(e.recipient_pseudonym.label("who"), _ref(e).label("ref"))
                    .where(batch, e.kind.in_((*kpi.SUBMITTED_KINDS, "delivered"))).distinct())
        before, late_before = _flags(conn, touched), _latency(conn, integration_id, messages)
        conn.execute(_upsert(conn, batch))
        after, late_after = _flags(conn, touched), _latency(conn, integration_id, messages)
        new, days = _changes(before, after)
        _add_days(conn, [{"integration_id": integration_id, "day": d, **f} for d, f in days.items()])
        _add_firsts(conn, integration_id, new)
        _add_latency(conn, integration_id, late_before, late_after)


def _touched(t: Any, integration_id: int, by_day: Mapping[Any, Iterable[str]]) -> Any:
    """The message rows of these (day, person) pairs: one index range per day (a row-value IN would
    make SQLite scan the integration's rows)."""
    return sa.or_(*(sa.and_(t.c.integration_id == integration_id, t.c.day == day,
                            t.c.recipient_pseudonym.in_(sorted(whos))) for day, whos in by_day.items()))


def _flags(conn: Any, where: Any) -> dict[tuple[Any, str, str], Any]:
    """(day, person, message) -> its flags that day (OR over its rows) and first / last event time."""
    c = R.c
    q = (sa.select(c.day, c.recipient_pseudonym, c.ref, *(sa.func.max(c[n]).label(n) for n in FLAGS),
                   sa.func.min(c.first_event_at).label("first_event_at"),
                   sa.func.max(c.last_event_at).label("last_event_at"))
         .where(where).group_by(c.day, c.recipient_pseudonym, c.ref))
    return {(r["day"], r["recipient_pseudonym"], r["ref"]): r for r in conn.execute(q).mappings()}


def _changes(before: Mapping[tuple, Any], after: Mapping[tuple, Any]
             ) -> tuple[dict[str, set[tuple]], dict[Any, dict[str, Any]]]:
    """The flags (TOTALS) newly set on a day (per flag: (day, person, message) or (day, person)) and
    each touched day's change of figures (messages and people newly counted, soft bounces resolved
    by a delivery, first / last event)."""
    new: dict[str, set[tuple]] = {n: set() for n in TOTALS}
    people_before: dict[tuple, set[str]] = {}
    for (day, who, _ref), row in before.items():
        people_before.setdefault((day, who), set()).update(n for n in PERSON_FLAGS if row[n])
    days: dict[Any, dict[str, Any]] = {}
    for key, row in after.items():
        day, who, _ref = key
        fig = days.setdefault(day, {**dict.fromkeys(FLAGS, 0), "first_event_at": row["first_event_at"],
                                    "last_event_at": row["last_event_at"]})
        fig["first_event_at"] = min(fig["first_event_at"], row["first_event_at"])
        fig["last_event_at"] = max(fig["last_event_at"], row["last_event_at"])
        old = before.get(key)
        fig["bounced_soft"] += _soft(row) - _soft(old)
        for n in TOTALS:
            if n in PERSON_FLAGS:
                if row[n] and n not in people_before.get((day, who), set()):
                    new[n].add((day, who))
            elif _has(row, n) and not (old is not None and _has(old, n)):
                new[n].add(key)
    for n, items in new.items():
        if n in FLAGS:
            for item in items:
                days[item[0]][n] += 1
    return new, days


def _neighbours(conn: Any, integration_id: int, new: Mapping[str, set[tuple]]) -> dict[str, dict[tuple, tuple]]:
    """For each newly flagged (day, person[, message]) of each flag: the previous and the next day
    with that flag of the same message (or person), by index; None where there is none. One
    statement for every flag of the batch."""
    flags = [f for f, items in new.items() if items]
    if not flags:
        return {}
    x, y = R.alias("x"), R.alias("y")
    by_day: dict[Any, set[str]] = {}
    cols = []
    for f in flags:
        for item in new[f]:
            by_day.setdefault(item[0], set()).add(item[1])
        same = [y.c.integration_id == integration_id, y.c.recipient_pseudonym == x.c.recipient_pseudonym,
                flagged(y, f), *([y.c.ref == x.c.ref] if f not in PERSON_FLAGS else [])]
        has = flagged(x, f)
        prev = sa.select(sa.func.max(y.c.day)).where(*same, y.c.day < x.c.day).scalar_subquery()
        nxt = sa.select(sa.func.min(y.c.day)).where(*same, y.c.day > x.c.day).scalar_subquery()
        cols += [sa.func.max(sa.case((has, 1))), sa.func.max(sa.case((has, prev))),
                 sa.func.max(sa.case((has, nxt)))]
    keys = [x.c.day, x.c.recipient_pseudonym, x.c.ref]
    out: dict[str, dict[tuple, tuple]] = {f: {} for f in flags}
    for r in conn.execute(sa.select(*keys, *cols).where(_touched(x, integration_id, by_day)).group_by(*keys)):
        for i, f in enumerate(flags):
            has, prev, nxt = r[3 + 3 * i:6 + 3 * i]
            key = tuple(r[:2]) if f in PERSON_FLAGS else tuple(r[:3])
            if has and key in new[f]:
                out[f][key] = (prev, nxt)
    return out


def _links(found: Mapping[tuple, tuple[Any, Any]]) -> Counter:
    """The change of (day, previous flagged day) counts when these flagged days join their
    message's (or person's) chain; ``found``: new (day, key...) -> (previous, next) after joining."""
    delta: Counter = Counter()
    new = {}
    for item, (prev, nxt) in found.items():
        new[(item[1:], item[0])] = (prev, nxt)
    for (key, day), (prev, nxt) in new.items():
        delta[(day, prev or NO_DAY)] += 1
        if nxt is not None and (key, nxt) not in new:
            delta[(nxt, day)] += 1
            start = prev  # the old day (or none) before this run of new days
            while start is not None and (key, start) in new:
                start = new[(key, start)][0]
            delta[(nxt, start or NO_DAY)] -= 1
    return delta


def _add_counts(conn: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Add each row's ``n`` to the row of its key (a new key starts from it)."""
    if rows:
        ins = dialect_insert(conn)(table)
        conn.execute(ins.on_conflict_do_update(index_elements=[c.name for c in table.primary_key.columns],
                                               set_={"n": table.c.n + ins.excluded.n}), rows)


def _add_firsts(conn: Any, integration_id: int, new: Mapping[str, set[tuple]]) -> None:
    rows = []
    for flag, found in _neighbours(conn, integration_id, new).items():
        for (day, previous), n in _links(found).items():
            if n:
                rows.append({"integration_id": integration_id, "flag": flag, "day": day, "previous": previous,
                             "n": n})
    _add_counts(conn, F, rows)


def latency_of(where: Any, keys: Sequence[Any], t: Any = R) -> sa.Select:
    """Per message (``keys``) of the rows of ``t`` ``where`` selects: the day of its first delivery
    and whole seconds from its first submission to it (NULL when either is missing or out of order)."""
    c = t.c
    return (sa.select(*keys, sa.func.min(sa.case((c.delivered == 1, c.day))).label("day"),
                      latency_seconds(sa.func.min(c.submitted_s), sa.func.min(c.delivered_s)).label("seconds"))
            .where(where).group_by(*keys))


def latency_seconds(submitted: Any, delivered: Any) -> Any:
    """Whole seconds from submission to delivery; NULL when either is missing or out of order."""
    return sa.case((delivered >= submitted, sa.func.round(delivered - submitted)))


def _latency(conn: Any, integration_id: int, messages: sa.Select) -> dict[tuple[str, str], tuple[Any, Any]]:
    """(person, message) -> (first delivery day, seconds) of the batch's messages, over all their days:
    per message three index look-ups (correlated, so no planner can make a join of them a scan),
    seconds as ``latency_of`` rounds them."""
    k = messages.subquery("k")
    c = R.c
    mine = [c.integration_id == integration_id, c.recipient_pseudonym == k.c.who, c.ref == k.c.ref]

    def first(col: Any) -> Any:
        return sa.select(sa.func.min(col)).where(*mine).scalar_subquery()

    t = sa.select(k.c.who, k.c.ref, first(sa.case((c.delivered == 1, c.day))).label("day"),
                  first(c.submitted_s).label("s"), first(c.delivered_s).label("d")).subquery("t")
    q = sa.select(t.c.who, t.c.ref, t.c.day, latency_seconds(t.c.s, t.c.d))
    return {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(q)}


def _add_latency(conn: Any, integration_id: int, before: Mapping[tuple, tuple],
                 after: Mapping[tuple, tuple]) -> None:
    delta: Counter = Counter()
    for key, now in after.items():
        was = before.get(key)
        if was == now:
            continue
        if was is not None and was[0] is not None and was[1] is not None:
            delta[was] -= 1
        if now[0] is not None and now[1] is not None:
            delta[now] += 1
    _add_counts(conn, L, [{"integration_id": integration_id, "day": day, "seconds": secs, "n": n}
                          for (day, secs), n in delta.items() if n])


def _add_days(conn: Any, changes: list[dict[str, Any]]) -> None:
    """Add each change to its day's figures (a new day starts from it)."""
    lite = is_sqlite(conn)
    ins = dialect_insert(conn)(D)
    ex = ins.excluded
    merged = {n: D.c[n] + ex[n] for n in FLAGS}
    merged.update(first_event_at=_least(lite, D.c.first_event_at, ex.first_event_at),
                  last_event_at=_most(lite, D.c.last_event_at, ex.last_event_at))
    conn.execute(ins.on_conflict_do_update(index_elements=["integration_id", "day"], set_=merged), changes)


def backfill(conn: Any, where: Any = None, totals: bool = True) -> None:
    """Roll up every stored event (the migration), or those ``where`` selects, in one statement;
    then rebuild the day figures (and, with ``totals``, the period totals and latency) from the
    message rows."""
    conn.execute(_upsert(conn, sa.true() if where is None else where))
    rebuild(conn, totals)


def rebuild(conn: Any, totals: bool = True) -> None:
    """The day figures and (``totals``) the period totals and the latency histogram from the message
    rows (window functions: each flagged day with the previous day of the same message or person
    with that flag)."""
    conn.execute(sa.delete(D))
    rows = day_figures(sa.true())
    conn.execute(D.insert().from_select([c.name for c in rows.selected_columns], rows))
    if not totals:
        return
    c = R.c
    conn.execute(sa.delete(F))
    conn.execute(sa.delete(L))
    for flag in TOTALS:
        keys = [c.integration_id, c.recipient_pseudonym, *([c.ref] if flag not in PERSON_FLAGS else [])]
        days = sa.select(*keys, c.day).where(flagged(R, flag)).distinct().subquery("f")
        fk = [days.c[k.name] for k in keys]
        prev = sa.func.lag(days.c.day).over(partition_by=fk, order_by=days.c.day)
        chain = sa.select(days.c.integration_id, days.c.day, prev.label("previous")).subquery("w")
        previous = sa.func.coalesce(chain.c.previous, sa.literal(NO_DAY, sa.Date))
        counted = (sa.select(chain.c.integration_id, sa.literal(flag, sa.String).label("flag"), chain.c.day,
                             previous.label("previous"), sa.func.count().label("n"))
                   .group_by(chain.c.integration_id, chain.c.day, previous))
        conn.execute(F.insert().from_select(["integration_id", "flag", "day", "previous", "n"], counted))
    m = latency_of(sa.true(), [c.integration_id, c.recipient_pseudonym, c.ref]).subquery("m")
    hist = (sa.select(m.c.integration_id, m.c.day, m.c.seconds, sa.func.count().label("n"))
            .where(m.c.day.is_not(None), m.c.seconds.is_not(None))
            .group_by(m.c.integration_id, m.c.day, m.c.seconds))
    conn.execute(L.insert().from_select(["integration_id", "day", "seconds", "n"], hist))
