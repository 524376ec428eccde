"""DMARC aggregate and SMTP TLS reports, per-day source totals, learned DKIM selectors.

Revision ID: 0011_dmarc
Revises: 0003_monitoring
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_dmarc"
down_revision = "0003_monitoring"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "dmarc_reports",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("org_name", sa.String(255), nullable=False),
        sa.Column("report_id", sa.String(255), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False, index=True),
        sa.Column("begin", TS, nullable=False),
        sa.Column("end", TS, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("messages", sa.BigInteger, nullable=False),
        sa.Column("policy", sa.JSON, nullable=False),
        sa.Column("received_via", sa.String(16), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("kind", "org_name", "report_id", name="uq_dmarc_reports_kind_org_report"),
    )
    op.create_table(
        "dmarc_records",
        sa.Column("id", ID, primary_key=True),
        sa.Column("report_pk", ID, sa.ForeignKey("dmarc_reports.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("source_ip", sa.String(45), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("spf_aligned", sa.Boolean, nullable=False),
        sa.Column("dkim_aligned", sa.Boolean, nullable=False),
        sa.Column("dmarc_pass", sa.Boolean, nullable=False),
        sa.Column("spf_pass", sa.Boolean, nullable=False),
        sa.Column("forwarded", sa.Boolean, nullable=False),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("envelope_from", sa.String(255)),
        sa.Column("selectors", sa.String(255), nullable=False),
    )
    op.create_index("ix_dmarc_records_domain_day", "dmarc_records", ["domain", "day"])
    op.create_table(
        "dmarc_source_days",
        sa.Column("domain", sa.String(255), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("source_ip", sa.String(45), primary_key=True),
        *[sa.Column(c, sa.BigInteger, nullable=False)
          for c in ("messages", "spf_aligned", "dkim_aligned", "dmarc_pass", "spf_pass", "forwarded")],
        sa.Column("selectors", sa.Text, nullable=False),
        sa.Column("reporters", sa.Text, nullable=False),
    )
    op.create_table(
        "tls_policy_results",
        sa.Column("id", ID, primary_key=True),
        sa.Column("report_pk", ID, sa.ForeignKey("dmarc_reports.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("policy_domain", sa.String(255), nullable=False),
        sa.Column("policy_type", sa.String(16), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("successful", sa.BigInteger, nullable=False),
        sa.Column("failed", sa.BigInteger, nullable=False),
        sa.Column("failure_details", sa.JSON, nullable=False),
    )
    op.create_index("ix_tls_policy_results_domain_day", "tls_policy_results", ["policy_domain", "day"])
    op.create_table(
        "dmarc_source_ptrs",
        sa.Column("ip", sa.String(45), primary_key=True),
        sa.Column("ptr", sa.String(255)),
        sa.Column("looked_up_at", TS, nullable=False),
    )
    op.create_table(
        "dkim_selectors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("domain", sa.String(255), nullable=False, index=True),
        sa.Column("selector", sa.String(63), nullable=False),
        sa.Column("origins", sa.JSON, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("key_bits", sa.Integer),
        sa.Column("status", sa.String(32)),
        sa.UniqueConstraint("domain", "selector", name="uq_dkim_selectors_domain_selector"),
    )
    op.create_table(
        "dmarc_unauthorised_sources",
        sa.Column("domain", sa.String(255), primary_key=True),
        sa.Column("source_ip", sa.String(45), primary_key=True),
        sa.Column("first_seen", TS, nullable=False),
    )


def downgrade() -> None:
    for name in ("dmarc_unauthorised_sources", "dkim_selectors", "dmarc_source_ptrs", "tls_policy_results",
                 "dmarc_source_days", "dmarc_records", "dmarc_reports"):
        op.drop_table(name)
