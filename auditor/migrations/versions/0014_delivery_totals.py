"""Additive period totals of delivery (``delivery_firsts``, ``delivery_latency``) and the message and
person indexes that keep them, built from the message roll-up.

Revision ID: 0014_delivery_totals
Revises: 0013_delivery_rollup

The rebuild is the statement set the back-fill uses (auditor/delivery/rollup.py); it rebuilds the
day figures too, since a soft bounce followed by a delivery no longer counts as a bounce.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_delivery_totals"
down_revision = "0013_delivery_rollup"
branch_labels = None
depends_on = None

MESSAGE_FLAGS = ("sent", "delivered", "bounced_hard", "bounced_soft", "deferred", "dropped")
PERSON_FLAGS = ("complaints", "unsubscribes", "opened", "clicked", "opened_by_machine")


def upgrade() -> None:
    op.create_index("ix_delivery_messages_message", "delivery_messages",
                    ["integration_id", "recipient_pseudonym", "ref", "day", *MESSAGE_FLAGS, "submitted_s",
                     "delivered_s"])
    op.create_index("ix_delivery_messages_person", "delivery_messages",
                    ["integration_id", "recipient_pseudonym", "day", *PERSON_FLAGS])
    op.create_table(
        "delivery_firsts",
        sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("flag", sa.String(24), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("previous", sa.Date, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("integration_id", "day", "flag", "previous", name="pk_delivery_firsts"),
    )
    op.create_table(
        "delivery_latency",
        sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("integration_id", "day", "seconds", name="pk_delivery_latency"),
    )
    from auditor.delivery.rollup import rebuild

    rebuild(op.get_bind())  # the day figures too: a soft bounce now counts only while not delivered


def downgrade() -> None:
    op.drop_table("delivery_latency")
    op.drop_table("delivery_firsts")
    op.drop_index("ix_delivery_messages_person", "delivery_messages")
    op.drop_index("ix_delivery_messages_message", "delivery_messages")
