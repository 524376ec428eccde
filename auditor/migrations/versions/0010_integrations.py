"""Integrations, the webhook inbox, delivery events, hard-bounce suppressions.

Revision ID: 0010_integrations
Revises: 0004_campaigns
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_integrations"
down_revision = "0004_campaigns"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("controller", sa.String(300)),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("secret", sa.Text),
        sa.Column("mapping", sa.JSON),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(400), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "webhook_inbox",
        sa.Column("id", RowId, primary_key=True),
        sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_until", TS),
        sa.Column("error", sa.Text),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("processed_at", TS),
        sa.UniqueConstraint("integration_id", "body_sha256", name="uq_webhook_inbox_body"),
    )
    op.create_table(
        "delivery_events",
        sa.Column("id", RowId, primary_key=True),
        sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("inbox_id", sa.BigInteger),
        sa.Column("provider_event_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("provider_type", sa.String(64), nullable=False),
        sa.Column("recipient_pseudonym", sa.String(64), nullable=False),
        sa.Column("recipient_sha256", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.BigInteger),
        sa.Column("esp_campaign", sa.String(200)),
        sa.Column("reason", sa.String(500)),
        sa.Column("event_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("integration_id", "provider_event_id", name="uq_delivery_events_provider_event"),
        sa.Index("ix_delivery_events_campaign", "campaign_id", "event_at"),
        sa.Index("ix_delivery_events_integration_day", "integration_id", "event_at"),
        sa.Index("ix_delivery_events_pseudonym", "recipient_pseudonym"),
    )
    op.create_table(
        "bounce_suppressions",
        sa.Column("pseudonym", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("recipient_sha256", sa.String(64), nullable=False),
        sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="SET NULL")),
        sa.Column("provider_event_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("bounced_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False, index=True),
    )


def downgrade() -> None:
    for table in ("bounce_suppressions", "delivery_events", "webhook_inbox", "integrations"):
        op.drop_table(table)
