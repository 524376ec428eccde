"""An index of delivery events by the inbox entry (or import) that stored them.

Revision ID: 0015_delivery_events_inbox
Revises: 0014_delivery_totals

Ingestion reads back the events one entry stored (to withdraw and suppress exactly once) by entry
and provider event id; by integration, a planner with statistics older than a new integration
took the integration's range and scanned all its events for every batch.
"""

from alembic import op

revision = "0015_delivery_events_inbox"
down_revision = "0014_delivery_totals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_delivery_events_inbox", "delivery_events", ["inbox_id", "provider_event_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_events_inbox", "delivery_events")
