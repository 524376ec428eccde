"""Monitoring: assets, audit history, change events, alerts.

Revision ID: 0003_monitoring
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_monitoring"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "monitored_assets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("selectors", sa.JSON, nullable=False),
        sa.Column("ips", sa.JSON, nullable=False),
        sa.Column("interval_minutes", sa.Integer, nullable=False),
        sa.Column("next_due", TS, nullable=False, index=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_checked_at", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_monitored_assets_kind_value"),
    )
    op.create_table(
        "audit_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("target", sa.String(255), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("asset_id", sa.Integer, sa.ForeignKey("monitored_assets.id", ondelete="SET NULL")),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("checked_at", TS, nullable=False, index=True),
        sa.Column("audit", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("changed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("kind", "target", "seq", name="uq_audit_results_kind_target_seq"),
    )
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("result_id", sa.Integer, sa.ForeignKey("audit_results.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("target", sa.String(255), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("result_id", sa.Integer, sa.ForeignKey("audit_results.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("destination", sa.String(1000), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(8), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("result_id", "channel", name="uq_alerts_result_id_channel"),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("change_events")
    op.drop_table("audit_results")
    op.drop_table("monitored_assets")
