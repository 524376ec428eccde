"""Domain spam rates imported from Google Postmaster Tools (another BULK-SPAM-RATE source).

Revision ID: 0012_delivery
Revises: 0010_integrations
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_delivery"
down_revision = "0010_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_spam_rates",
        sa.Column("domain", sa.String(253), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("rate", sa.Float, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("domain_spam_rates")
