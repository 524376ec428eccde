"""Request and response bodies of the campaign API (the INTERFACES.md campaign document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from auditor.api import Body
from auditor.api.schemas import FindingOut
from auditor.monitoring.services import normalise_domain, normalise_ip, normalise_selector

MAX_RECIPIENTS = 200_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Sender(_Strict):
    """Who sends, from where."""

    # Required by channel (CampaignDocument below): an email needs from and domain, an SMS its sender name.
    from_: str | None = Field(None, alias="from", min_length=3, max_length=998)
    domain: str | None = Field(None, min_length=1, max_length=253)
    ips: list[str] = Field(default_factory=list, max_length=64)
    dkim_selectors: list[str] = Field(default_factory=list, max_length=32)
    legal_name: str | None = Field(None, max_length=500)
    postal_address: str | None = Field(None, max_length=1000)
    inn: str | None = Field(None, max_length=20)
    phone: str | None = Field(None, max_length=40)
    website: str | None = Field(None, max_length=500)
    sms_sender_name: str | None = Field(None, max_length=64)
    processing_country: str | None = Field(None, max_length=2)

    # The sending domain, IPs and selectors go to DNS: refuse what is not one here (422),
    # not halfway through the audit.
    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        return None if v is None else normalise_domain(v)

    @field_validator("ips")
    @classmethod
    def _ips(cls, v: list[str]) -> list[str]:
        return [normalise_ip(ip) for ip in v]

    @field_validator("dkim_selectors")
    @classmethod
    def _selectors(cls, v: list[str]) -> list[str]:
        return [normalise_selector(sel) for sel in v]


class AdMarking(_Strict):
    """38-FZ art. 18.1 advertising label and erid token."""

    label: str | None = Field(None, max_length=200)
    erid: str | None = Field(None, max_length=200)


class Message(_Strict):
    """The message: raw RFC 5322 text, or parts to build it from."""

    subject: str | None = Field(None, max_length=998)
    html: str | None = None
    text: str | None = None
    headers: dict[str, str] = Field(default_factory=dict, max_length=100)
    raw: str | None = None
    ad_marking: AdMarking | None = None


class Stats(_Strict):
    """What the sender measured elsewhere (e.g. Google Postmaster Tools); read by the bulk rules."""

    spam_rate: float | None = Field(None, ge=0, le=1, description="reported spam share, 0.002 = 0.2%")
    unsubscribe_latency_hours: float | None = Field(None, ge=0, le=24 * 366,
                                                    description="worst delay from an unsubscribe to its suppression")


class Esp(_Strict):
    """Which integration sends the campaign and its id there (links Mailchimp-style events)."""

    integration: str = Field(min_length=1, max_length=100)
    campaign_ref: str | None = Field(None, min_length=1, max_length=200)


class CampaignDocument(Body):
    """A campaign as submitted (unknown fields at any level are refused)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    channel: str = Field("email", pattern=r"^(email|sms|voice|push|messenger:[a-z0-9_.-]{1,40})$")
    purpose: str = Field("marketing", pattern=r"^[a-z0-9][a-z0-9_.:-]{0,99}$")
    advertising: bool = True
    jurisdictions: list[Literal["RU", "EU", "UK", "US", "CA"]] = Field(default_factory=list, max_length=5)
    sender: Sender
    message: Message
    unsubscribe: Literal["own", "auditor"] = "own"
    recipients: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    scheduled_at: datetime | None = None
    stats: Stats | None = None
    esp: Esp | None = None

    # channel is declared before sender and message, so their validators see it (info.data).
    @field_validator("sender")
    @classmethod
    def _sender_of_channel(cls, v: Sender, info: ValidationInfo) -> Sender:
        missing = [name for name in CHANNEL_SENDER.get(_kind(info.data.get("channel")), ())
                   if not (getattr(v, name.replace("from", "from_")) or "").strip()]
        if missing:
            raise ValueError(f"a {info.data.get('channel')} campaign needs "
                             + " and ".join(f"sender.{m}" for m in missing))
        return v

    @field_validator("message")
    @classmethod
    def _message_of_channel(cls, v: Message, info: ValidationInfo) -> Message:
        kind = _kind(info.data.get("channel"))
        if kind in ("email", ""):
            return v
        extra = [name for name in ("raw", "headers") if getattr(v, name)]
        if kind in ("sms", "voice") and v.html is not None:
            extra.append("html")
        if extra:
            raise ValueError(f"a {info.data.get('channel')} message is text: "
                             + ", ".join(f"message.{e}" for e in extra) + " belong to email")
        if kind == "sms" and not (v.text or "").strip():
            raise ValueError("an sms campaign needs message.text")
        if kind in ("messenger", "push") and not (v.text or v.html):
            raise ValueError(f"a {info.data.get('channel')} campaign needs message.text or message.html")
        return v


# What each channel's sender must name: an email its From and sending domain (DNS posture,
# alignment); an SMS the alphanumeric sender name operators register (126-FZ art. 44.1); a
# voice call the number it calls from (126-FZ art. 46 p. 1: the caller's number is passed on).
# A messenger or push message is sent from the organisation's account there, which the
# document does not carry; nothing is required of it.
CHANNEL_SENDER: dict[str, tuple[str, ...]] = {"email": ("from", "domain"), "sms": ("sms_sender_name",),
                                              "voice": ("phone",)}


def _kind(channel: str | None) -> str:
    """email, sms, voice, push or messenger (messenger:telegram and the like); "" when invalid."""
    return (channel or "").split(":", 1)[0]


class ConsentCoverage(BaseModel):
    """How many recipients may be sent to now, and why the others may not."""

    allowed: int
    suppressed: int
    reasons: dict[str, int]
    warnings: dict[str, int] = Field(default_factory=dict)
    citations: dict[str, str] = Field(default_factory=dict,
                                      description="per rule id of reasons and warnings, the laws it cites here")
    policy: list[dict[str, str]] = Field(default_factory=list,
                                         description="each severity the organisation policy changed for this "
                                                     "audit: {rule_id, from, to, reason}")


class ReviewOut(BaseModel):
    """One review decision."""

    id: int
    reviewer: str
    role: str
    decision: str
    comment: str
    created_at: datetime


class ApprovalOut(BaseModel):
    """An issued approval token (the token itself only to the submitter)."""

    token_id: str
    token: str | None = None
    expires_at: datetime
    revoked: bool


class CampaignOut(BaseModel):
    """A campaign's verdict, findings, coverage and reviews."""

    id: int
    name: str
    status: Literal["blocked", "needs_review", "approved", "rejected"]
    content_sha256: str
    findings: list[FindingOut]
    consent: ConsentCoverage
    reviews: list[ReviewOut] = Field(default_factory=list)
    approval: ApprovalOut | None = None
    created_at: datetime | None = None


class ReviewIn(Body):
    """A reviewer's decision."""

    decision: Literal["approve", "reject"]
    comment: str = Field("", max_length=5000)


class RevokeIn(Body):
    """Why an approval token is revoked."""

    reason: str = Field(min_length=1, max_length=2000)


class CampaignQuery(BaseModel):
    """Filters of the campaign list."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["blocked", "needs_review", "approved", "rejected"] | None = None
    limit: int = Field(50, ge=1, le=200)


class CampaignSummary(BaseModel):
    """One line of the campaign list."""

    id: int
    name: str
    status: str
    submitted_by: str
    created_at: datetime
    allowed: int
    suppressed: int


class CampaignList(BaseModel):
    """Campaigns, newest first."""

    campaigns: list[CampaignSummary]
