"""The roll-up of delivery events (``delivery_messages``, ``delivery_days``), back-filled from the stored events.

Revision ID: 0013_delivery_rollup
Revises: 0012_delivery

The back-fill is the same INSERT .. SELECT ingestion runs per batch (auditor/delivery/rollup.py),
over every stored event at once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_delivery_rollup"
down_revision = "0012_delivery"
branch_labels = None
depends_on = None

FLAGS = ("sent", "delivered", "bounced_hard", "bounced_soft", "deferred", "dropped", "complaints",
         "unsubscribes", "opened", "clicked", "opened_by_machine")


def upgrade() -> None:
    op.create_table(
        "delivery_messages",
        sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("recipient_pseudonym", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("esp_campaign", sa.String(200), nullable=False),
        sa.Column("campaign_id", sa.BigInteger, nullable=False),
        *(sa.Column(name, sa.SmallInteger, nullable=False) for name in FLAGS),
        sa.Column("first_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_s", sa.Float),
        sa.Column("delivered_s", sa.Float),
        sa.PrimaryKeyConstraint("integration_id", "day", "recipient_pseudonym", "ref", "esp_campaign",
                                "campaign_id", name="pk_delivery_messages"),
        # covering: a campaign's figures read the index alone (no look-up of each row by its key)
        sa.Index("ix_delivery_messages_campaign", "campaign_id", "recipient_pseudonym", *FLAGS, "first_event_at",
                 "last_event_at", "submitted_s", "delivered_s"),
        sa.Index("ix_delivery_messages_esp", "integration_id", "esp_campaign"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "delivery_days",
        sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        *(sa.Column(name, sa.Integer, nullable=False) for name in FLAGS),
        sa.Column("first_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("integration_id", "day", name="pk_delivery_days"),
    )
    from auditor.delivery.rollup import backfill

    backfill(op.get_bind(), totals=False)  # the period totals come with 0014


def downgrade() -> None:
    op.drop_table("delivery_days")
    op.drop_table("delivery_messages")
