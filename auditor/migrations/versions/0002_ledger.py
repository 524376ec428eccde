"""The consent ledger: events (with stored subtree hashes), checkpoints, projection, vault.

Revision ID: 0002_ledger
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ledger"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_events", "ledger_checkpoints")


def _pseudonym():
    # Byte order on PostgreSQL so verification can merge-join streams sorted by pseudonym.
    return sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ledger_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("pseudonym", _pseudonym(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("nodes", sa.LargeBinary, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_ledger_events_pseudonym_seq", "ledger_events", ["pseudonym", "seq"])
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )
    op.create_index("ix_ledger_checkpoints_size", "ledger_checkpoints", ["size"])
    op.create_table(
        "ledger_states",
        sa.Column("pseudonym", _pseudonym(), primary_key=True),
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
        sqlite_with_rowid=False,  # one B-tree keyed by the text primary key instead of two
    )
    op.create_table(
        "ledger_subject_keys",
        sa.Column("pseudonym", _pseudonym(), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ledger_identities",
        sa.Column("pseudonym", _pseudonym(), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    lock = op.create_table(
        "ledger_lock",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("locked_at", sa.String(32)),
    )
    op.bulk_insert(lock, [{"id": 1, "locked_at": None}])
    if op.get_bind().dialect.name == "sqlite":
        for t in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {t}_no_{verb.lower()} BEFORE {verb} ON {t} "
                           f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: {verb} refused'); END")
    else:
        op.execute("CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$")
        for t in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                       "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
            op.execute(f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for t in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}")
            op.execute(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
    for t in ("ledger_lock", "ledger_identities", "ledger_subject_keys", "ledger_states",
              "ledger_checkpoints", "ledger_events"):
        op.drop_table(t)
