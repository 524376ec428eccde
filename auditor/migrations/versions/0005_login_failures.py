"""Failed logins, shared by every worker for the login rate limit.

Revision ID: 0005_login_failures
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_login_failures"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("login_failures")
