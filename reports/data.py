"""Plain data the reports render: gathered by the service, rendered here without any I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class FindingRow:
    """A finding as stored (``Finding.to_dict()``); title and citation come from the catalogue."""

    rule_id: str
    severity: str
    detail: str = ""
    subject: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    detail_msgid: str = ""
    detail_params: dict[str, Any] = field(default_factory=dict)
    citation: str = ""  # as stored: narrowed to the campaign's jurisdictions (catalogue.citation_for)

    @classmethod
    def of(cls, f: Any) -> FindingRow:
        """From a ``checks.findings.Finding`` or its dict (rows stored before msgids: text only)."""
        d = f if isinstance(f, dict) else f.to_dict()
        return cls(rule_id=d["rule_id"], severity=d["severity"], detail=d.get("detail") or "",
                   subject=d.get("subject") or "", evidence=dict(d.get("evidence") or {}),
                   detail_msgid=d.get("detail_msgid") or "", detail_params=dict(d.get("detail_params") or {}),
                   citation=d.get("citation") or "")


@dataclass(frozen=True)
class BlocklistRow:
    """One blocklist answer of a posture audit."""

    zone: str
    kind: str
    target: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class PostureData:
    """A domain's DNS and blocklist posture at one time (from a ``DomainAudit``)."""

    target: str
    checked_at: datetime | None
    findings: list[FindingRow]
    records: dict[str, str]
    blocklists: list[BlocklistRow]

    @classmethod
    def of(cls, audit: Any, checked_at: datetime | None = None) -> PostureData:
        """From a ``checks.domain_audit.DomainAudit`` (or its ``to_dict()``)."""
        d = audit if isinstance(audit, dict) else audit.to_dict()
        recs = d.get("records") or {}
        shown = {}
        for key in ("spf", "dmarc", "mx", "ns", "mta_sts", "tlsrpt", "bimi", "dnssec"):
            if recs.get(key) not in (None, "", [], {}):
                shown[key] = _record_text(recs[key])
        for sel, v in sorted((recs.get("dkim") or {}).items()):
            shown[f"dkim {sel}"] = _record_text(v)
        for ip, v in sorted((recs.get("ptr") or {}).items()):
            shown[f"ptr {ip}"] = _record_text(v)
        when = checked_at or d.get("checked_at")
        if isinstance(when, str):
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        return cls(target=d["target"], checked_at=when,
                   findings=[FindingRow.of(f) for f in d.get("findings") or []], records=shown,
                   blocklists=[BlocklistRow(zone=b.get("zone", ""), kind=b.get("kind", ""),
                                            target=b.get("target", ""), status=b.get("status", ""),
                                            reason=str(b.get("reason") or ", ".join(b.get("codes") or [])))
                               for b in d.get("blocklists") or []])


def _record_text(value: Any) -> str:
    """A record as one readable line: its published text if it has one, else its parts."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        if isinstance(value.get("record"), str) and value["record"]:
            return value["record"]
        if "hosts" in value:  # MX: "10 mail.example"
            return ", ".join(f"{h.get('preference', '')} {h.get('hostname', '')}".strip()
                             for h in value["hosts"] or []) or "—"
        if "ptr" in value:  # PTR and its forward confirmation (FCrDNS)
            names = ", ".join(value.get("ptr") or []) or "—"
            return f"{names} (FCrDNS: {value.get('confirmed') or '—'})"
        if "signed" in value:
            return "signed" if value["signed"] else "unsigned"
        return "; ".join(f"{k}={_record_text(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list | tuple):
        return ", ".join(_record_text(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class ReviewRow:
    """One reviewer's decision."""

    reviewer: str
    role: str
    decision: str
    comment: str
    created_at: datetime


@dataclass(frozen=True)
class TokenRow:
    """An approval token: what it binds, its life and revocation."""

    id: str
    content_sha256: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


@dataclass(frozen=True)
class MessageSummary:
    """What was sent, in short."""

    from_: str
    subject: str
    sender_domain: str
    ad_label: str = ""
    erid: str = ""
    legal_name: str = ""
    unsubscribe: str = ""
    scheduled_at: str = ""


@dataclass(frozen=True)
class ReportMeta:
    """Facts on every cover page: when it was made and how big the ledger was."""

    generated_at: datetime
    ledger_size: int
    checkpoint: dict[str, Any] | None = None
    generated_by: str = ""


@dataclass(frozen=True)
class CampaignReportData:
    """Everything the campaign report shows."""

    meta: ReportMeta
    id: int
    name: str
    status: str
    channel: str
    purpose: str
    jurisdictions: list[str]
    submitted_by: str
    created_at: datetime
    decided_at: datetime | None
    content_sha256: str
    message: MessageSummary
    findings: list[FindingRow]
    reviews: list[ReviewRow]
    recipients: int
    allowed: int
    suppressed: int
    reasons: dict[str, int]
    warnings: dict[str, int]
    posture: PostureData | None
    tokens: list[TokenRow]


@dataclass(frozen=True)
class PostureChange:
    """One stored check of a domain and what changed against the one before."""

    checked_at: datetime
    block: int
    warn: int
    info: int
    added: list[str]
    removed: list[str]


@dataclass(frozen=True)
class DomainReportData:
    """Everything the domain report shows."""

    meta: ReportMeta
    domain: str
    posture: PostureData | None
    history: list[PostureChange]
    period_from: date | None = None
    period_to: date | None = None
    # Receivers' reports (auditor/dmarc/views.py domain_panel): sources, days, tls, selectors.
    sources: dict[str, Any] | None = None


@dataclass(frozen=True)
class EventRow:
    """One ledger event of a subject with its inclusion proof (INTERFACES.md proof file)."""

    seq: int
    type: str
    channel: str
    purpose: str
    recorded_at: str
    claimed_at: str | None
    method: str | None
    legal_basis: str | None
    jurisdiction: str | None
    evidence: dict[str, Any]
    leaf_hash: str
    proof: dict[str, Any]

    @property
    def attachment_name(self) -> str:
        """File name of this event's proof inside the PDF."""
        return f"proof-seq-{self.seq}.json"


@dataclass(frozen=True)
class StateRow:
    """Current consent for one channel and purpose."""

    channel: str
    purpose: str
    status: str
    confirmed: bool
    last_seq: int
    updated_at: datetime | str
    expires_at: datetime | str | None
    evidence_complete: bool


@dataclass(frozen=True)
class SubjectReportData:
    """Everything the subject report shows; ``subject`` is what the requester typed."""

    meta: ReportMeta
    subject: str
    pseudonym: str
    states: list[StateRow]
    events: list[EventRow]
    checkpoint: dict[str, Any] | None
    public_key_pem: str


@dataclass(frozen=True)
class DomainChange:
    """A domain whose posture changed within a period."""

    domain: str
    checked_at: datetime
    added: list[str]
    removed: list[str]


@dataclass(frozen=True)
class PeriodReportData:
    """Everything the period report shows."""

    meta: ReportMeta
    date_from: date
    date_to: date
    by_status: dict[str, int]
    per_day: list[tuple[date, dict[str, int]]]
    top_findings: list[tuple[str, int]]
    unsubscribes: int
    unsubscribe_seconds: list[float]
    domain_changes: list[DomainChange]
    # Per integration: KPIs, SLA charts and findings (auditor/delivery/views.py overview).
    delivery: list[dict[str, Any]] = field(default_factory=list)

    @property
    def campaigns(self) -> int:
        """Campaigns audited in the period."""
        return sum(self.by_status.values())
