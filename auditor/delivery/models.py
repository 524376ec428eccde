"""Daily spam rates of a sending domain measured elsewhere (Google Postmaster Tools exports)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from auditor.db import Base, utcnow


class DomainSpamRate(Base):
    """One day's user-reported spam rate of a domain from one source."""

    __tablename__ = "domain_spam_rates"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    rate: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
