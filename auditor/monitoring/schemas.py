"""Request and response bodies of the domain and monitoring API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from auditor.api import Body
from auditor.api.schemas import FindingOut
from auditor.monitoring.services import MAX_IPS, MAX_SELECTORS, MIN_INTERVAL_MINUTES

MAX_ZONE_CHARS = 1_000_000


class AuditIn(Body):
    """What to audit besides the domain's own records; ``zone`` audits a proposed zone instead."""

    selectors: list[str] = Field(default_factory=list, max_length=MAX_SELECTORS,
                                 description="DKIM selectors to check")
    ips: list[str] = Field(default_factory=list, max_length=MAX_IPS, description="sending IPs (PTR, SPF, blocklists)")
    zone: str | None = Field(None, max_length=MAX_ZONE_CHARS,
                             description="zone file text: served on loopback and audited before it is "
                                         "published (preflight; not stored in the history)")
    discover_selectors: bool = Field(False, description="also probe common DKIM selectors; found ones are "
                                                        "audited and listed with origin 'discovered'")


class ChangeOut(BaseModel):
    """One difference from the previous audit of the target."""

    kind: str
    subject: str
    severity: str
    text: str
    before: Any = None
    after: Any = None


class AlertOut(BaseModel):
    """One alert sent for a change set."""

    id: int
    channel: str
    status: str
    error: str | None = None


class AuditOut(BaseModel):
    """An audit run now: findings, records, blocklist rows and what changed since the last one."""

    target: str
    kind: str
    preflight: bool
    stored: bool
    result_id: int | None = None
    checked_at: datetime | str | None = None
    baseline: bool | None = None
    summary: dict[str, Any]
    findings: list[FindingOut]
    records: dict[str, Any]
    blocklists: list[dict[str, Any]]
    changes: list[ChangeOut] = Field(default_factory=list)
    alerts: list[AlertOut] = Field(default_factory=list)


class AssetIn(Body):
    """A domain (with DKIM selectors and sending IPs) or an IP to audit on a schedule."""

    kind: Literal["domain", "ip"]
    value: str = Field(min_length=1, max_length=253)
    selectors: list[str] = Field(default_factory=list, max_length=MAX_SELECTORS)
    ips: list[str] = Field(default_factory=list, max_length=MAX_IPS)
    interval_minutes: int | None = Field(None, ge=MIN_INTERVAL_MINUTES, le=7 * 24 * 60)


class AssetOut(BaseModel):
    """A monitored asset and its schedule."""

    id: int
    kind: str
    value: str
    selectors: list[str]
    ips: list[str]
    interval_minutes: int
    next_due: datetime
    enabled: bool
    last_checked_at: datetime | None = None
    last_error: str | None = None
    created: bool | None = None


class AssetList(BaseModel):
    """Every monitored asset."""

    assets: list[AssetOut]


class HistoryEntry(BaseModel):
    """One stored audit of the target, with its changes."""

    result_id: int
    seq: int
    checked_at: datetime
    source: str
    baseline: bool
    summary: dict[str, Any]
    changes: list[ChangeOut]


class LatestOut(BaseModel):
    """The latest stored audit."""

    result_id: int
    checked_at: datetime
    summary: dict[str, Any]
    findings: list[FindingOut]
    records: dict[str, Any]
    blocklists: list[dict[str, Any]]


class PostureOut(BaseModel):
    """Latest posture, history with changes, and the monitoring entry of a domain or IP."""

    target: str
    kind: str
    monitored: AssetOut | None = None
    latest: LatestOut | None = None
    history: list[HistoryEntry]


class HistoryQuery(BaseModel):
    """How much history to return."""

    limit: int = Field(20, ge=1, le=200)
