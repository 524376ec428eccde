"""Daily spam rates of a sending domain measured elsewhere (Postmaster Tools), and the message roll-up."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    and_,
    case,
    func,
)
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


# What one message had on one UTC day (auditor/delivery/rollup.py keeps it, in the transaction that
# stores the events): the KPIs read these rows, about a fifth of the events.
FLAGS = ("sent", "delivered", "bounced_hard", "bounced_soft", "deferred", "dropped", "complaints",
         "unsubscribes", "opened", "clicked", "opened_by_machine")
PERSON_FLAGS = ("complaints", "unsubscribes", "opened", "clicked", "opened_by_machine")  # counted as people
MESSAGE_FLAGS = tuple(n for n in FLAGS if n not in PERSON_FLAGS)


def message_count(sub: Any, name: str) -> Any:
    """How many messages of ``sub`` (one row per message, its flags OR-ed) count for ``name``. A soft
    bounce counts only while the message is not delivered: a temporary failure the provider retried
    successfully is a delivery, not a bounce (nor a breach of an SLA's bounce rate)."""
    col = sub.c[name]
    if name == "bounced_soft":
        col = case((and_(sub.c.bounced_soft == 1, sub.c.delivered == 0), 1), else_=0)
    return func.sum(col).label(name)
TS = DateTime(timezone=True)
MESSAGE_KEY = ("integration_id", "day", "recipient_pseudonym", "ref", "esp_campaign", "campaign_id")

delivery_messages = Table(
    "delivery_messages", Base.metadata,
    Column("integration_id", Integer, ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("recipient_pseudonym", String(64), nullable=False),
    # the message per integration: the ESP's message / campaign id, else Auditor's campaign id, else ""
    Column("ref", String(200), nullable=False),
    Column("esp_campaign", String(200), nullable=False),  # "" when the events carry none
    Column("campaign_id", BigInteger, nullable=False),  # 0 when linked to no campaign
    *(Column(name, SmallInteger, nullable=False) for name in FLAGS),
    Column("first_event_at", TS, nullable=False),
    Column("last_event_at", TS, nullable=False),
    Column("submitted_s", Float),  # Unix seconds of the first processed / sent event that day
    Column("delivered_s", Float),  # Unix seconds of the first delivered event that day
    PrimaryKeyConstraint(*MESSAGE_KEY, name="pk_delivery_messages"),
    # covering: a campaign's figures read the index alone (no look-up of each row by its key)
    Index("ix_delivery_messages_campaign", "campaign_id", "recipient_pseudonym", *FLAGS, "first_event_at",
          "last_event_at", "submitted_s", "delivered_s"),
    Index("ix_delivery_messages_esp", "integration_id", "esp_campaign"),
    # a message's days and a person's days, in day order: the neighbouring flagged days and a
    # message's first submission and delivery are found here by index (rollup.record)
    Index("ix_delivery_messages_message", "integration_id", "recipient_pseudonym", "ref", "day", *MESSAGE_FLAGS,
          "submitted_s", "delivered_s"),
    Index("ix_delivery_messages_person", "integration_id", "recipient_pseudonym", "day", *PERSON_FLAGS),
    sqlite_with_rowid=False,
)

# Per integration and UTC day: the day's figures (messages and people of that day), kept with the
# message rows (the per-day KPIs read them as they are).
delivery_days = Table(
    "delivery_days", Base.metadata,
    Column("integration_id", Integer, ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    *(Column(name, Integer, nullable=False) for name in FLAGS),
    Column("first_event_at", TS, nullable=False),
    Column("last_event_at", TS, nullable=False),
    PrimaryKeyConstraint("integration_id", "day", name="pk_delivery_days"),
)

# The period totals, additive. A message (for MESSAGE_FLAGS) or a person (PERSON_FLAGS) with a flag
# on ``day`` whose previous day with that flag was ``previous`` (NO_DAY: none) counts once in
# every period with previous < from <= day <= to: a period's count is the sum of ``n`` over its
# days with ``previous`` before its first day. Kept at ingestion by touching only the neighbouring
# flagged days of what a batch changed (rollup.record).
NO_DAY = date(1, 1, 1)
delivery_firsts = Table(
    "delivery_firsts", Base.metadata,
    Column("integration_id", Integer, ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("flag", String(24), nullable=False),
    Column("day", Date, nullable=False),
    Column("previous", Date, nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("integration_id", "day", "flag", "previous", name="pk_delivery_firsts"),
)

# Submission-to-delivery time, additive: ``n`` messages first delivered on ``day`` took ``seconds``
# (whole seconds) from their first submission, whenever that was.
delivery_latency = Table(
    "delivery_latency", Base.metadata,
    Column("integration_id", Integer, ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("integration_id", "day", "seconds", name="pk_delivery_latency"),
)
