"""Request and response bodies of the DMARC report API (INTERFACES.md § DMARC reports)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.api import Body
from auditor.api.schemas import FindingOut


class ReportOut(BaseModel):
    """A stored report's summary."""

    report_id: str
    kind: Literal["aggregate", "smtp_tls"]
    org_name: str
    domain: str
    begin: str
    end: str
    records: int
    findings: list[FindingOut] = Field(default_factory=list)


class PeriodQuery(Body):
    """An inclusive period of days; defaults to the last 30."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date | None = Field(None, alias="from", description="first day (YYYY-MM-DD)")
    to: date | None = Field(None, description="last day (YYYY-MM-DD)")


class SourceOut(BaseModel):
    """One sending source: message counts (not shares) and the verdict."""

    ip: str
    ptr: str | None
    messages: int
    spf_aligned: int
    dkim_aligned: int
    dmarc_pass: int
    selectors: list[str]
    reporters: list[str]
    verdict: Literal["authorised", "forwarded", "unauthorised"]


class SourcesOut(BaseModel):
    """The sources table of a domain and period, with its findings."""

    model_config = ConfigDict(populate_by_name=True)

    domain: str
    from_: date = Field(alias="from")
    to: date
    sources: list[SourceOut]
    findings: list[FindingOut] = Field(default_factory=list)


class TlsPolicyOut(BaseModel):
    """Session totals of one TLS policy."""

    policy_type: str
    policy_domain: str
    successful: int
    failed: int
    failure_details: list[dict[str, Any]]


class TlsReportsOut(BaseModel):
    """SMTP TLS results of a domain over a period."""

    model_config = ConfigDict(populate_by_name=True)

    domain: str
    from_: date = Field(alias="from")
    to: date
    policies: list[TlsPolicyOut]
    findings: list[FindingOut] = Field(default_factory=list)


class SelectorOut(BaseModel):
    """A DKIM selector and where Auditor learned it."""

    selector: str
    origins: list[Literal["configured", "discovered", "dmarc-report", "message"]]
    first_seen: datetime | None
    last_seen: datetime | None
    key_bits: int | None
    status: str | None


class SelectorsOut(BaseModel):
    """The domain's DKIM selectors."""

    domain: str
    selectors: list[SelectorOut]
