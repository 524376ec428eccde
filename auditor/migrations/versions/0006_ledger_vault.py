"""The identity vault in one table: each subject's wrapped key and sealed identifier in one row.

Two tables keyed by the same random pseudonym cost two B-tree inserts per new subject, each on
its own page; one row costs one (docs/ledger.md, "Benchmarks"). Rows move over unchanged: the
wrapped key and the sealed identifier stay bound to the pseudonym as associated data.

Revision ID: 0006_ledger_vault
Revises: 0002_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_ledger_vault"
down_revision = "0002_ledger"
branch_labels = None
depends_on = None


def _pseudonym():
    # Byte order on PostgreSQL, as every pseudonym column of the ledger.
    return sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ledger_vault",
        sa.Column("pseudonym", _pseudonym(), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),  # nonce || AES-GCM(KEK, key)
        sa.Column("sealed", sa.LargeBinary, nullable=False),       # nonce || AES-GCM(key, identifier)
        sqlite_with_rowid=False,
    )
    # Both halves were always written and erased together; a half alone cannot be opened.
    op.execute("INSERT INTO ledger_vault (pseudonym, wrapped_key, sealed) "
               "SELECT k.pseudonym, k.wrapped_key, i.sealed FROM ledger_subject_keys k "
               "JOIN ledger_identities i ON i.pseudonym = k.pseudonym")
    op.drop_table("ledger_identities")
    op.drop_table("ledger_subject_keys")


def downgrade() -> None:
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
    op.execute("INSERT INTO ledger_subject_keys (pseudonym, wrapped_key) SELECT pseudonym, wrapped_key FROM ledger_vault")
    op.execute("INSERT INTO ledger_identities (pseudonym, sealed) SELECT pseudonym, sealed FROM ledger_vault")
    op.drop_table("ledger_vault")
