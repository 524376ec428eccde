"""Engines, sessions and the declarative base; the same code on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the service's own tables."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


def make_engine(url: str, **kw) -> Engine:
    """An engine with SQLite in WAL mode and transactions that SQLAlchemy controls."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # 32 MB of page cache (the default is 2 MB): a gate call reads 100,000 states at random
            # keys; pages are only allocated as they are read.
            cur.execute("PRAGMA cache_size=-32768")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            # A deferred transaction that reads and then writes fails at once with
            # SQLITE_BUSY when another connection wrote meanwhile (WAL snapshot); write
            # units therefore ask for BEGIN IMMEDIATE, which waits for the lock instead.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if "poolclass" not in kw:
        kw.setdefault("pool_size", 10)
        kw.setdefault("max_overflow", 20)
    return create_engine(url, pool_pre_ping=True, **kw)


def is_sqlite(engine_or_session) -> bool:
    """True when the bind is SQLite."""
    bind = getattr(engine_or_session, "bind", None) or engine_or_session
    return bind.dialect.name == "sqlite"


def dialect_insert(bind) -> Any:
    """The ``insert`` of the bind's dialect (SQLite or PostgreSQL), the one with ON CONFLICT;
    ``bind``: an engine, a connection or a session."""
    from sqlalchemy.dialects import postgresql, sqlite

    return sqlite.insert if is_sqlite(bind) else postgresql.insert


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite; no-op elsewhere)."""
    session.connection(execution_options={"sqlite_immediate": True})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one write transaction: commit on success, roll back on error."""
    with factory() as session, session.begin():
        begin_write(session)
        yield session


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer ``SELECT 1``."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
