"""Tables of the ledger (SQLAlchemy Core) and the triggers that make three of them append-only."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

# Byte order for pseudonyms on PostgreSQL, so verification can merge-join sorted streams.
Pseudonym = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")

events = sa.Table(
    "ledger_events", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("pseudonym", Pseudonym, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(100), nullable=False),
    sa.Column("event", sa.Text, nullable=False),            # canonical JSON, exactly as hashed
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("nodes", sa.LargeBinary, nullable=False),     # subtree roots this leaf completes
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Index("ix_ledger_events_pseudonym_seq", "pseudonym", "seq"),
)

checkpoints = sa.Table(
    "ledger_checkpoints", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False, index=True),
    sa.Column("root", sa.String(64), nullable=False),
    sa.Column("time", sa.String(32), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(128), nullable=False),
)

states = sa.Table(
    "ledger_states", metadata,
    sa.Column("pseudonym", Pseudonym, primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("confirmed", sa.Boolean, nullable=False),
    sa.Column("expires_at", sa.String(32)),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Column("granted_at", sa.String(32)),
    sa.Column("method", sa.String(100)),
    sa.Column("evidence_complete", sa.Boolean, nullable=False),
    sa.Column("separate_document", sa.Boolean),
    sa.Column("pre_ticked", sa.Boolean),
    sa.Column("bundled", sa.Boolean),
    sa.Column("notice_version", sa.String(200)),
    sa.Column("legal_basis", sa.String(100)),
    sa.Column("stopped_at", sa.String(32)),  # effective time of the latest withdrawal or erasure
    sa.Column("erased_at", sa.String(32)),   # effective time of the latest erasure of the subject
    sqlite_with_rowid=False,  # one B-tree keyed by the text primary key instead of two
)

vault = sa.Table(  # one row per subject: one random-key insert per new subject, not two
    "ledger_vault", metadata,
    sa.Column("pseudonym", Pseudonym, primary_key=True),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),  # nonce || AES-GCM(KEK, key)
    sa.Column("sealed", sa.LargeBinary, nullable=False),       # nonce || AES-GCM(subject key, id)
    sqlite_with_rowid=False,
)

lock = sa.Table(
    "ledger_lock", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("locked_at", sa.String(32)),
)

APPEND_ONLY = ("ledger_events", "ledger_checkpoints")
STATE_COLUMNS = tuple(c.name for c in states.columns)


def trigger_ddl(dialect: str) -> list[str]:
    """Statements that make the append-only tables refuse UPDATE and DELETE (and TRUNCATE)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} "
            f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: {op} refused'); END"
            for t in APPEND_ONLY for op in ("UPDATE", "DELETE")
        ]
    out = ["CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
           "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$"]
    for t in APPEND_ONLY:
        out.append(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        out.append(f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()")
    return out


def drop_trigger_ddl(dialect: str) -> list[str]:
    """The statements that remove those triggers (tests use them to tamper like an intruder)."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in APPEND_ONLY for op in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {t}_{name} ON {t}" for t in APPEND_ONLY
            for name in ("append_only", "no_truncate")]


def create_schema(engine: Engine) -> None:
    """Create the ledger tables and triggers on a bare database (the service uses Alembic)."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        for stmt in trigger_ddl(engine.dialect.name):
            conn.exec_driver_sql(stmt)
        conn.execute(lock.insert(), [{"id": 1, "locked_at": None}])
