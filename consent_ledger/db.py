"""Dialect-specific statements: the append lock, insert-or-ignore, upsert, chunked IN."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from consent_ledger.schema import lock

# pg_advisory_xact_lock key: ASCII "ledger" as an integer, so it does not collide by accident.
ADVISORY_KEY = int.from_bytes(b"ledger", "big")
SQLITE_CACHE_KIB = 32768
SQLITE_CHECKPOINT_PAGES = 32768  # 128 MB of WAL between automatic checkpoints (4 KiB pages)
CHUNK = 5000  # bound parameters per IN list: under SQLite's 32,766 and PostgreSQL's 65,535
# From this many rows an insert on PostgreSQL goes in with COPY (a batch of appends): executemany
# binds and executes a statement per row; COPY streams them, in 4 statements at most.
COPY_MIN_ROWS = 50


def take_append_lock(conn: Connection, now: str) -> None:
    """Serialise appenders until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the transaction's FIRST statement
    is a write, so SQLite takes the write lock at once (waiting on busy_timeout) instead of
    upgrading a read lock later, which could deadlock with another reader-turned-writer.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY})
        return
    conn.execute(lock.update().where(lock.c.id == 1).values(locked_at=now))
    if not conn.info.get("ledger_pragmas"):
        # Appends touch three B-trees at random keys; SQLite's default 2 MB page cache makes a
        # large ledger re-read index pages on every batch. Set once per pooled connection (an
        # engine from auditor.db asks for as much at connect; a bare engine may not).
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        # A batch of 5,000 new subjects dirties ~50 MB of pages. With the default (1,000 pages)
        # every commit checkpoints, copying each page into the database and syncing twice; at
        # 128 MB a checkpoint comes every few batches and copies a page rewritten meanwhile once.
        # The WAL file grows to about this size plus one batch; durability is unchanged.
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}")
        conn.info["ledger_pragmas"] = True


def fold_wal(engine: sa.engine.Engine) -> None:
    """Copy what waits in SQLite's WAL into the database file, without waiting for anyone.

    Appends let up to SQLITE_CHECKPOINT_PAGES wait there; pages read from the WAL bypass the
    memory map that ``verify`` reads through. A bulk stream calls this when it ends and
    ``verify`` when it starts. A passive checkpoint: if a reader or writer holds frames, it
    copies what it can and returns.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


_COPY: ContextVar[bool] = ContextVar("ledger_copy", default=False)


@contextmanager
def copy_events() -> Iterator[None]:
    """Within the block, plain inserts on PostgreSQL go in with COPY (the bulk import)."""
    token = _COPY.set(True)
    try:
        yield
    finally:
        _COPY.reset(token)


def insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple],
                conflict: str = "") -> None:
    """Plain executemany on the DBAPI cursor: no per-row SQLAlchemy processing (the hot path);
    on PostgreSQL, from COPY_MIN_ROWS rows, COPY (about half the time of executemany per batch).

    ``conflict`` is an ON CONFLICT clause; SQLite and PostgreSQL spell it the same way.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql" and (_COPY.get() or len(rows) >= COPY_MIN_ROWS):
        _copy_rows(conn, table, columns, rows, conflict)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names are our constants
           f"VALUES ({', '.join([mark] * len(columns))}) {conflict}")
    conn.exec_driver_sql(sql, rows)


def _copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple], conflict: str) -> None:
    """COPY the rows in; with an ON CONFLICT clause, through a temporary table and one
    INSERT ... SELECT, which applies the clause as the row-by-row statement would (the rows of
    one call have distinct keys, as ON CONFLICT DO UPDATE requires)."""
    names = ", ".join(columns)
    target = table if not conflict else f"bulk_stage_{table}"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if conflict:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} "  # noqa: S608 - names are our constants
                           f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:  # noqa: S608
            for row in rows:
                copy.write_row(row)
        if conflict:
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {target} {conflict}")  # noqa: S608
            cursor.execute(f"TRUNCATE {target}")
    finally:
        cursor.close()


def select_in(conn: Connection, sql: str, values: Sequence[Any], params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` (ending in ``IN``) for every value, in chunks of bound parameters.

    ``sql`` is written with ``?`` for ``params``; it is adapted to the driver's style.
    """
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    if mark != "?":
        sql = sql.replace("?", mark)
    out: list[tuple] = []
    # The driver's own cursor, in the connection's transaction: plain tuples, none of
    # SQLAlchemy's per-row work (a gate call reads 100,000 rows here).
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            # One statement with one array parameter: PostgreSQL parses and plans a
            # 5,000-parameter IN list per chunk, which cost two thirds of a 100,000-key lookup;
            # "= ANY" over an array probes the same index (or hashes the array).
            if not values:
                return out
            head = sql.removesuffix("IN")
            joined = ",".join(values) if all(type(v) is str for v in values) else ""
            if joined and joined.count(",") == len(values) - 1:
                # Strings without a comma (pseudonyms): one text parameter split by the server,
                # cheaper to send than an array the driver builds element by element in Python.
                cursor.execute(f"{head} = ANY(string_to_array({mark}, ','))", (*params, joined))
            else:
                cursor.execute(f"{head} = ANY({mark})", (*params, list(values)))
            return cursor.fetchall()
        for part in chunks(values):
            cursor.execute(f"{sql} ({', '.join([mark] * len(part))})", (*params, *part))
            out.extend(cursor.fetchall())
    finally:
        cursor.close()
    return out


def upsert_sql(keys: Sequence[str], columns: Sequence[str]) -> str:
    """ON CONFLICT (keys) DO UPDATE SET every other column to the new value."""
    return (f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys))


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for i in range(0, len(items), size):
        yield items[i:i + size]
