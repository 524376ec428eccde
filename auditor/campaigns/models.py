"""Tables of campaigns, their reviews and the approval tokens issued for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditor.db import Base, utcnow

STATUSES = ("blocked", "needs_review", "approved", "rejected")


class Campaign(Base):
    """A submitted campaign: the document (recipients left out), its verdict and coverage."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(100))
    # The submitted document without the recipient list: addresses stay out of this table so
    # that erasure in the ledger's vault (152-FZ art. 21, GDPR art. 17) is not undone here.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    allowed_count: Mapped[int] = mapped_column(Integer, default=0)
    suppressed_count: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    warnings: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviews: Mapped[list[Review]] = relationship(back_populates="campaign", order_by="Review.id")
    tokens: Mapped[list[ApprovalToken]] = relationship(back_populates="campaign",
                                                       order_by="ApprovalToken.issued_at")


class Review(Base):
    """One reviewer's decision on a campaign."""

    __tablename__ = "campaign_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewer: Mapped[str] = mapped_column(String(400))
    role: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    campaign: Mapped[Campaign] = relationship(back_populates="reviews")


class ApprovalToken(Base):
    """An issued approval token: what it is bound to, until when, and whether it was revoked."""

    __tablename__ = "approval_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(400))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    campaign: Mapped[Campaign] = relationship(back_populates="tokens")
