"""Tables of receivers' reports, their records, per-day source totals and the selectors in use."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from auditor.db import Base, utcnow

Id = BigInteger().with_variant(Integer, "sqlite")


class DmarcReport(Base):
    """One received report (aggregate or SMTP TLS); a reporter's report id is stored once."""

    __tablename__ = "dmarc_reports"
    __table_args__ = (UniqueConstraint("kind", "org_name", "report_id", name="uq_dmarc_reports_kind_org_report"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    org_name: Mapped[str] = mapped_column(String(255))
    report_id: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255), index=True)
    begin: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    records: Mapped[int] = mapped_column(Integer)
    messages: Mapped[int] = mapped_column(BigInteger)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_via: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DmarcRecord(Base):
    """One aggregate-report row, kept as evidence (append-only, written in batches)."""

    __tablename__ = "dmarc_records"
    __table_args__ = (Index("ix_dmarc_records_domain_day", "domain", "day"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("dmarc_reports.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(255))
    day: Mapped[date] = mapped_column(Date)
    source_ip: Mapped[str] = mapped_column(String(45))
    count: Mapped[int] = mapped_column(Integer)
    spf_aligned: Mapped[bool] = mapped_column(Boolean)
    dkim_aligned: Mapped[bool] = mapped_column(Boolean)
    dmarc_pass: Mapped[bool] = mapped_column(Boolean)
    spf_pass: Mapped[bool] = mapped_column(Boolean)
    forwarded: Mapped[bool] = mapped_column(Boolean)
    disposition: Mapped[str] = mapped_column(String(16))
    envelope_from: Mapped[str | None] = mapped_column(String(255))
    selectors: Mapped[str] = mapped_column(String(255), default="")


class DmarcSourceDay(Base):
    """Totals of one source IP for one domain and day: what the sources table sums."""

    __tablename__ = "dmarc_source_days"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source_ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger)
    spf_aligned: Mapped[int] = mapped_column(BigInteger)
    dkim_aligned: Mapped[int] = mapped_column(BigInteger)
    dmarc_pass: Mapped[int] = mapped_column(BigInteger)
    spf_pass: Mapped[int] = mapped_column(BigInteger)
    forwarded: Mapped[int] = mapped_column(BigInteger)
    # Selectors and reporters seen, each wrapped in US (0x1f) separators ("\x1fs1\x1fs2\x1f"): one
    # aggregate query reads them with the sums (docs/dns.md, "The sources table").
    selectors: Mapped[str] = mapped_column(Text, default="")
    reporters: Mapped[str] = mapped_column(Text, default="")


class TlsPolicyResult(Base):
    """One policy's session counts from an SMTP TLS report."""

    __tablename__ = "tls_policy_results"
    __table_args__ = (Index("ix_tls_policy_results_domain_day", "policy_domain", "day"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("dmarc_reports.id", ondelete="CASCADE"), index=True)
    policy_domain: Mapped[str] = mapped_column(String(255))
    policy_type: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    successful: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    failure_details: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class SourcePtr(Base):
    """A source IP's PTR name, looked up once (``ptr`` None: none found)."""

    __tablename__ = "dmarc_source_ptrs"

    ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    ptr: Mapped[str | None] = mapped_column(String(255))
    looked_up_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DkimSelector(Base):
    """A DKIM selector of a domain and where Auditor learned it."""

    __tablename__ = "dkim_selectors"
    __table_args__ = (UniqueConstraint("domain", "selector", name="uq_dkim_selectors_domain_selector"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    selector: Mapped[str] = mapped_column(String(63))
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    key_bits: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(32))


class UnauthorisedSource(Base):
    """An unauthorised source already alerted on, so a new one is alerted once."""

    __tablename__ = "dmarc_unauthorised_sources"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    source_ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
