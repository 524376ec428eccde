"""Where a benchmark runs: a temporary SQLite file or a temporary database on the local PostgreSQL.

Every figure of bench/ledger.py and bench/gate.py is measured on the engine given by
``--engine sqlite|postgres|both``, beside a raw-SQL baseline run on the same engine.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("AUDITOR_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ENGINES = ("sqlite", "postgres")


def engines_of(choice: str) -> tuple[str, ...]:
    """The engines an ``--engine`` value names."""
    return ENGINES if choice == "both" else (choice,)


@contextmanager
def temp_database(kind: str, folder: Path, name: str) -> Iterator[str]:
    """A URL of a new, empty database of ``kind``, dropped (PostgreSQL) when the block ends."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / (name + '.db')}"
        return
    db = f"auditor_bench_{name}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{db}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.dispose()


def mark(engine: sa.engine.Engine) -> str:
    """The DBAPI parameter mark of the engine's driver: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if engine.dialect.paramstyle == "qmark" else "%s"


def server_version(url: str) -> str:
    """The database server's version string (for the benchmark's machine section)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return str(c.exec_driver_sql(
                "SELECT sqlite_version()" if url.startswith("sqlite") else "SHOW server_version").scalar())
    finally:
        engine.dispose()
