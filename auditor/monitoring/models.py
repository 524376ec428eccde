"""Tables of monitoring: watched assets, the audit history, what changed and the alerts sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditor.db import Base, utcnow

ASSET_KINDS = ("domain", "ip")
DEFAULT_INTERVAL_MINUTES = 60


class MonitoredAsset(Base):
    """A domain (with its DKIM selectors and sending IPs) or an IP checked on a schedule."""

    __tablename__ = "monitored_assets"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_monitored_assets_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(255))
    selectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    interval_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_INTERVAL_MINUTES)
    next_due: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by every claim: a claim is an UPDATE that only succeeds on the version it read,
    # so two schedulers or workers racing for one due asset cannot both run it.
    version: Mapped[int] = mapped_column(Integer, default=0)
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able view."""
        return {"id": self.id, "kind": self.kind, "value": self.value, "selectors": list(self.selectors or []),
                "ips": list(self.ips or []), "interval_minutes": self.interval_minutes,
                "next_due": self.next_due, "enabled": self.enabled, "last_checked_at": self.last_checked_at,
                "last_error": self.last_error}


class AuditResult(Base):
    """One audit of a domain or IP: the DomainAudit document, numbered per target."""

    __tablename__ = "audit_results"
    # One row per (target, seq): two jobs storing a successor of the same result collide here,
    # and the loser diffs again against the winner, so no change is alerted twice.
    __table_args__ = (UniqueConstraint("kind", "target", "seq", name="uq_audit_results_kind_target_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(String(255), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("monitored_assets.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    audit: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    changes: Mapped[list[ChangeEvent]] = relationship(back_populates="result", order_by="ChangeEvent.id")


class ChangeEvent(Base):
    """One difference between a result and the one before it, with its human line."""

    __tablename__ = "change_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("audit_results.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    result: Mapped[AuditResult] = relationship(back_populates="changes")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able view."""
        return {"kind": self.kind, "subject": self.subject, "severity": self.severity, "text": self.text,
                "before": self.before, "after": self.after}


class Alert(Base):
    """One notification of one change set on one channel (webhook or email)."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("result_id", "channel", name="uq_alerts_result_id_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("audit_results.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(8))
    destination: Mapped[str] = mapped_column(String(1000))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
