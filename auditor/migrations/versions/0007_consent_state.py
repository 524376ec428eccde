"""The consent state machine's columns, and the projection rebuilt from the events.

``legal_basis`` (judged per jurisdiction), ``stopped_at`` (the latest withdrawal or erasure,
by claimed time) and ``erased_at`` join ``ledger_states``; every row is then recomputed by
replaying the events through ``consent_ledger.projection`` (docs/ledger.md, "Consent state
machine"), which also corrects states the old fold got wrong (a stale confirmation after a
withdrawal).

Revision ID: 0007_consent_state
Revises: 0006_ledger_vault
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_consent_state"
down_revision = "0006_ledger_vault"
branch_labels = None
depends_on = None

COLUMNS = (("legal_basis", 100), ("stopped_at", 32), ("erased_at", 32))


def upgrade() -> None:
    with op.batch_alter_table("ledger_states") as batch:
        for name, size in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(size)))
    from consent_ledger.projection import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    # Wildcard rows ("*") exist only under the state machine; the old fold never read them.
    op.execute("DELETE FROM ledger_states WHERE channel = '*' OR purpose = '*'")
    with op.batch_alter_table("ledger_states") as batch:
        for name, _size in COLUMNS:
            batch.drop_column(name)
