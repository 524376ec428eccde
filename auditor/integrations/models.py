"""Tables of integrations, the webhook inbox, delivery events and hard-bounce suppressions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from auditor.db import Base, utcnow

# A BIGINT key that SQLite still numbers itself (only INTEGER PRIMARY KEY is its rowid).
RowId = BigInteger().with_variant(Integer, "sqlite")
INBOX_STATES = ("received", "processing", "processed", "failed")


class Integration(Base):
    """An ESP or CRM whose events belong to one controller, channel and purpose."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    controller: Mapped[str | None] = mapped_column(String(300))
    channel: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(100))
    # SendGrid's public key or UniOne's API key; never returned by the API or the UI.
    secret: Mapped[str | None] = mapped_column(Text)
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # the URL token itself is shown once
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboxEntry(Base):
    """One accepted webhook request, durable before its 2xx (states: docs/integrations.md)."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (UniqueConstraint("integration_id", "body_sha256", name="uq_webhook_inbox_body"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    body_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)  # dropped once processed (it holds addresses)
    events: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), index=True, default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryEvent(Base):
    """One provider event about one recipient (read by the delivery KPIs)."""

    __tablename__ = "delivery_events"
    __table_args__ = (
        UniqueConstraint("integration_id", "provider_event_id", name="uq_delivery_events_provider_event"),
        Index("ix_delivery_events_campaign", "campaign_id", "event_at"),
        Index("ix_delivery_events_integration_day", "integration_id", "event_at"),
        Index("ix_delivery_events_pseudonym", "recipient_pseudonym"),
        # what one inbox entry (or import) stored: read by entry, never by integration (a new
        # integration on a large table looks empty to a stale planner and its range was scanned)
        Index("ix_delivery_events_inbox", "inbox_id", "provider_event_id"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    inbox_id: Mapped[int | None] = mapped_column(BigInteger)  # the inbox row (or import) that claimed it
    provider_event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    provider_type: Mapped[str] = mapped_column(String(64))
    recipient_pseudonym: Mapped[str] = mapped_column(String(64))
    recipient_sha256: Mapped[str] = mapped_column(String(64))  # of the normalised address: survives erasure
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)  # no FK: a payload may name any number
    esp_campaign: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))
    event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BounceSuppression(Base):
    """An address that hard-bounced: the gate suppresses it (DELIVERY-HARD-BOUNCE)."""

    __tablename__ = "bounce_suppressions"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipient_sha256: Mapped[str] = mapped_column(String(64))
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("integrations.id", ondelete="SET NULL"))
    provider_event_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))
    bounced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
