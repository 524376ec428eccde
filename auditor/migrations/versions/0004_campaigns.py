"""Campaigns, reviews, approval tokens.

Revision ID: 0004_campaigns
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_campaigns"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("recipient_count", sa.Integer, nullable=False),
        sa.Column("allowed_count", sa.Integer, nullable=False),
        sa.Column("suppressed_count", sa.Integer, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("submitter_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("submitted_by", sa.String(400), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS),
    )
    op.create_table(
        "campaign_reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False, index=True),
        sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("reviewer", sa.String(400), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "approval_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False, index=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", sa.String(400)),
        sa.Column("revoke_reason", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("approval_tokens")
    op.drop_table("campaign_reviews")
    op.drop_table("campaigns")
