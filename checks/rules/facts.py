"""What the rule packs know about a campaign: the INTERFACES.md campaign document, read leniently."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Lenient(BaseModel):
    # The API validates the document strictly; the rules read stored documents too, which may
    # carry fields added later, so unknown fields are ignored here.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SenderFacts(_Lenient):
    """Who sends, from where."""

    from_: str | None = Field(None, alias="from")
    domain: str | None = None
    ips: list[str] = Field(default_factory=list)
    dkim_selectors: list[str] = Field(default_factory=list)
    legal_name: str | None = None
    postal_address: str | None = None
    inn: str | None = None
    phone: str | None = None
    website: str | None = None
    sms_sender_name: str | None = None
    processing_country: str | None = None


class AdMarkingFacts(_Lenient):
    """38-FZ art. 18.1 label and erid token."""

    label: str | None = None
    erid: str | None = None


class MessageFacts(_Lenient):
    """The message as submitted (raw or parts)."""

    subject: str | None = None
    html: str | None = None
    text: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    raw: str | None = None
    ad_marking: AdMarkingFacts | None = None


class SenderStats(_Lenient):
    """What the sender measured elsewhere (the campaign document's ``stats``)."""

    spam_rate: float | None = None  # reported spam share, e.g. 0.002 = 0.2% (Postmaster Tools)
    unsubscribe_latency_hours: float | None = None  # worst delay from unsubscribe to suppression


class MeasuredSpamRate(_Lenient):
    """The sending domain's complaint rate measured by Auditor (not part of the document)."""

    rate: float
    source: str  # "delivery events" or "postmaster tools"
    days: int | None = None  # days of Postmaster data
    complaints: int | None = None
    delivered: int | None = None
    start: str | None = None
    end: str | None = None


class CampaignFacts(_Lenient):
    """The campaign document's fields the rules read."""

    name: str = ""
    channel: str = "email"
    purpose: str = "marketing"
    advertising: bool = True
    jurisdictions: list[str] = Field(default_factory=list)
    sender: SenderFacts = Field(default_factory=SenderFacts)
    message: MessageFacts = Field(default_factory=MessageFacts)
    unsubscribe: str = "own"
    recipients: list[str] = Field(default_factory=list)
    scheduled_at: datetime | None = None
    stats: SenderStats | None = None
    measured_spam_rate: MeasuredSpamRate | None = None  # filled by the service when stats has none

    @field_validator("jurisdictions")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        return [j.strip().upper() for j in v]

    @property
    def marketing(self) -> bool:
        """Advertising, or sent for a marketing purpose."""
        return self.advertising or self.purpose.startswith("marketing")

    @property
    def internet(self) -> bool:
        """Email and messengers: advertising "on the internet" under 38-FZ art. 18.1."""
        return self.channel == "email" or self.channel.startswith(("messenger:", "push"))

    def describe(self) -> dict[str, Any]:
        """A short summary for evidence."""
        return {"channel": self.channel, "purpose": self.purpose, "jurisdictions": self.jurisdictions}
