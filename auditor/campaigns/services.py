"""Campaign workflow: submit and audit, review with four eyes, issue and revoke approval tokens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.accounts.services import Principal, record
from auditor.campaigns.audit import CampaignAudit, audit_campaign, check_message_of
from auditor.campaigns.coverage import citations, policy_changes
from auditor.campaigns.models import ApprovalToken, Campaign, Review
from auditor.campaigns.schemas import CampaignDocument
from auditor.db import transaction
from auditor.services import services

REVIEWER_ROLES = ("legal", "security", "admin")


class WorkflowError(Exception):
    """A request the workflow refuses; ``status`` is the HTTP status the API answers with."""

    status = 409
    title = "Conflict"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CampaignNotFound(WorkflowError):
    """No such campaign."""

    status, title = 404, "Not Found"


class NotAllowed(WorkflowError):
    """The caller may not do this (role, four eyes)."""

    status, title = 403, "Forbidden"


class PolicyUnavailable(WorkflowError):
    """The organisation policy file cannot be read or is invalid (an operator must fix it)."""

    status, title = 503, "Policy unavailable"


class InvalidDecision(WorkflowError):
    """The decision is incomplete (e.g. a rejection without a comment)."""

    status, title = 422, "Invalid review"


def aware(ts: datetime) -> datetime:
    """A stored time as aware UTC (SQLite returns naive)."""
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


# --- inputs of an audit ---------------------------------------------------------------------

def current_policy(app: Flask) -> Any:
    """The organisation policy (``AUDITOR_POLICY_FILE``), re-read when the file changes."""
    from checks.rules import load_policy

    path = services(app).settings.policy_file
    extras = services(app).extras
    try:
        stamp = (str(path), path.stat().st_mtime_ns) if path else None
    except OSError as exc:
        raise PolicyUnavailable(f"AUDITOR_POLICY_FILE: cannot read {path}: {exc.strerror}") from None
    cached = extras.get("campaign_policy")
    if cached is None or cached[0] != stamp:
        try:
            cached = extras["campaign_policy"] = (stamp, load_policy(str(path) if path else {}))
        except ValueError as exc:  # PolicyError: the message names the file and the problem
            raise PolicyUnavailable(f"AUDITOR_POLICY_FILE: {exc}") from None
    return cached[1]


def resolver_of(app: Flask) -> Any:
    """A DNS resolver on the configured nameservers."""
    from checks.resolver import make_resolver

    svc = services(app)
    return make_resolver(svc.nameservers, svc.settings.dns_timeout)


def blocklists_of(app: Flask) -> Any:
    """The configured blocklists (``AUDITOR_BLOCKLISTS``)."""
    from checks.blocklists import parse_blocklists

    return parse_blocklists(services(app).settings.blocklists)


def _covers(audit: Any, selectors: list[str], ips: list[str]) -> bool:
    records = getattr(audit, "records", None) or {}
    return set(selectors) <= set(records.get("dkim") or {}) and set(ips) <= set(records.get("ptr") or {})


def current_posture(app: Flask, doc: CampaignDocument) -> Any:
    """The sender domain's latest stored audit, or a fresh one if older than allowed."""
    sender = doc.sender
    try:
        from auditor.monitoring.services import latest_posture, run_audit
    except ImportError:  # monitoring not installed: audit without storing history
        from checks.domain_audit import audit_domain

        return audit_domain(sender.domain, selectors=tuple(sender.dkim_selectors), ips=tuple(sender.ips),
                            resolver=resolver_of(app), blocklists=blocklists_of(app))
    svc = services(app)
    with svc.sessions() as s:
        audit, checked_at = latest_posture(s, sender.domain)
    max_age = timedelta(minutes=svc.settings.posture_max_age_minutes)
    if (audit is not None and checked_at is not None and datetime.now(UTC) - aware(checked_at) < max_age
            and _covers(audit, sender.dkim_selectors, sender.ips)):
        return audit
    return run_audit(app, sender.domain, selectors=tuple(sender.dkim_selectors), ips=tuple(sender.ips))


def run_campaign_audit(app: Flask, doc: CampaignDocument, message_json: dict[str, Any], *,
                       posture: Any = None, fresh_posture: bool = False) -> CampaignAudit:
    """Every check of a campaign, nothing stored (the CLI calls this directly)."""
    from auditor.ledger.services import get_ledger

    report = check_message_of(doc, resolver=resolver_of(app), blocklists=blocklists_of(app))
    if posture is None and doc.channel == "email":
        posture = current_posture(app, doc) if not fresh_posture else _fresh_posture(app, doc)
    from auditor.delivery.services import measured_spam_rate

    return audit_campaign(doc, message_json, message=report, posture=posture, ledger=get_ledger(app),
                          policy=current_policy(app), now=datetime.now(UTC),
                          measured_spam_rate=measured_spam_rate(app, doc))


def _fresh_posture(app: Flask, doc: CampaignDocument) -> Any:
    from checks.domain_audit import audit_domain

    s = doc.sender
    return audit_domain(s.domain, selectors=tuple(s.dkim_selectors), ips=tuple(s.ips),
                        resolver=resolver_of(app), blocklists=blocklists_of(app))


# --- submission -----------------------------------------------------------------------------

def stored_document(doc: CampaignDocument) -> dict[str, Any]:
    """The document as kept: everything but the recipient addresses."""
    data = doc.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("recipients", None)
    return data


def submit_campaign(app: Flask, principal: Principal, doc: CampaignDocument,
                    message_json: dict[str, Any]) -> Campaign:
    """Audit a campaign and store it with its verdict, in one transaction."""
    result = run_campaign_audit(app, doc, message_json)
    now = result.checked_at
    with transaction(services(app).sessions) as s:
        c = Campaign(name=doc.name, channel=doc.channel, purpose=doc.purpose, document=stored_document(doc),
                     content_sha256=result.content_sha256, status=result.status,
                     findings=[f.to_dict() for f in result.findings], recipient_count=len(doc.recipients),
                     allowed_count=result.coverage.allowed, suppressed_count=result.coverage.suppressed,
                     reasons=result.coverage.reasons, warnings=result.coverage.warnings,
                     submitter_id=principal.user_id, submitted_by=principal.actor, created_at=now)
        s.add(c)
        s.flush()
        record(s, principal.actor, "campaign.submit", f"campaign:{c.id}", status=c.status,
               content_sha256=c.content_sha256, findings=len(result.findings),
               allowed=c.allowed_count, suppressed=c.suppressed_count)
        from auditor.dmarc.selectors import (
            learn_from_campaign,  # issue 18: selectors seen in messages
        )

        learn_from_campaign(s, doc.sender.domain or "", message_json)
        if c.status == "approved":
            c.decided_at = now
            issue_token(app, s, c, now)
            record(s, "policy:auto_approve", "campaign.approve", f"campaign:{c.id}",
                   reason="policy auto_approve and nothing above info")
    return c


# --- reading --------------------------------------------------------------------------------

def get_campaign(session: Session, campaign_id: int) -> Campaign:
    """The campaign, or CampaignNotFound."""
    c = session.get(Campaign, campaign_id)
    if c is None:
        raise CampaignNotFound(f"no campaign with id {campaign_id}")
    return c


def list_campaigns(session: Session, status: str | None = None, limit: int = 50) -> list[Campaign]:
    """Newest campaigns first, optionally of one status (the review queue: ``needs_review``)."""
    stmt = select(Campaign).order_by(Campaign.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Campaign.status == status)
    return list(session.scalars(stmt))


def active_token(campaign: Campaign, now: datetime | None = None) -> ApprovalToken | None:
    """The newest unrevoked, unexpired approval token of a campaign."""
    now = now or datetime.now(UTC)
    live = [t for t in campaign.tokens if t.revoked_at is None and aware(t.expires_at) > now]
    return live[-1] if live else (campaign.tokens[-1] if campaign.tokens else None)


def token_string(app: Flask, row: ApprovalToken) -> str:
    """Re-create the signed token of a row (Ed25519 signatures are deterministic)."""
    from auditor.gate.tokens import issue_approval_token

    return issue_approval_token(services(app).signing_key, token_id=row.id, campaign_id=row.campaign_id,
                                content_sha256=row.content_sha256, issued_at=aware(row.issued_at),
                                expires_at=aware(row.expires_at))


def campaign_view(app: Flask, c: Campaign, principal: Principal | None) -> dict[str, Any]:
    """The API representation; the approval token itself only for the submitter."""
    row = active_token(c)
    approval = None
    if row is not None:
        mine = principal is not None and principal.user_id == c.submitter_id
        approval = {"token_id": row.id, "token": token_string(app, row) if mine and row.revoked_at is None else None,
                    "expires_at": aware(row.expires_at).isoformat(), "revoked": row.revoked_at is not None}
    return {
        "id": c.id, "name": c.name, "status": c.status, "content_sha256": c.content_sha256,
        "findings": c.findings,
        "consent": {"allowed": c.allowed_count, "suppressed": c.suppressed_count,
                    "reasons": c.reasons, "warnings": c.warnings,
                    "citations": citations([*(c.reasons or {}), *(c.warnings or {})],
                                           list((c.document or {}).get("jurisdictions") or []), c.channel),
                    "policy": policy_changes(c.findings)},
        "reviews": [{"id": r.id, "reviewer": r.reviewer, "role": r.role, "decision": r.decision,
                     "comment": r.comment, "created_at": aware(r.created_at).isoformat()} for r in c.reviews],
        "approval": approval,
        "created_at": aware(c.created_at).isoformat(),
    }


# --- reviews and tokens ---------------------------------------------------------------------

def issue_token(app: Flask, session: Session, c: Campaign, now: datetime) -> ApprovalToken:
    """Add an approval token row bound to the campaign's content hash."""
    ttl = timedelta(hours=services(app).settings.approval_ttl_hours)
    row = ApprovalToken(id=secrets.token_hex(16), campaign_id=c.id, content_sha256=c.content_sha256,
                        issued_at=now.replace(microsecond=0), expires_at=(now + ttl).replace(microsecond=0))
    session.add(row)
    c.tokens.append(row)
    return row


def _approvals_suffice(approvals: list[Review], require_both: bool) -> bool:
    people = {r.reviewer_id: r.role for r in approvals}
    if not require_both:
        return bool(people)
    # Two different people: one counts as legal, the other as security (an admin may be either).
    return any(a != b and people[a] in ("legal", "admin") and people[b] in ("security", "admin")
               for a in people for b in people)


def decide(app: Flask, principal: Principal, campaign_id: int, decision: str, comment: str) -> Campaign:
    """Record a reviewer's decision; approve when the policy's sign-offs are complete."""
    if principal.role not in REVIEWER_ROLES:
        raise NotAllowed(f"role {principal.role} cannot review; reviewers are legal, security or admin")
    comment = comment.strip()
    if decision == "reject" and not comment:
        raise InvalidDecision("a rejection needs a comment saying what to fix")
    policy = current_policy(app)
    now = datetime.now(UTC)
    with transaction(services(app).sessions) as s:
        c = s.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
        if c is None:
            raise CampaignNotFound(f"no campaign with id {campaign_id}")
        if c.submitter_id == principal.user_id:
            raise NotAllowed("four eyes: the submitter cannot review their own campaign")
        if c.status == "rejected":
            raise WorkflowError("the campaign was rejected; fix it and submit it again")
        if decision == "approve":
            if c.status == "blocked":
                raise WorkflowError("a blocked campaign cannot be approved; fix the block findings and resubmit")
            if c.status == "approved":
                raise WorkflowError("the campaign is already approved")
            if any(r.reviewer_id == principal.user_id and r.decision == "approve" for r in c.reviews):
                raise WorkflowError("you already approved this campaign; another reviewer must sign off")
        review = Review(campaign_id=c.id, reviewer_id=principal.user_id, reviewer=principal.email,
                        role=principal.role, decision=decision, comment=comment, created_at=now)
        s.add(review)
        c.reviews.append(review)
        record(s, principal.actor, f"campaign.review.{decision}", f"campaign:{c.id}",
               role=principal.role, comment=comment, status_before=c.status)
        if decision == "reject":
            c.status, c.decided_at = "rejected", now
            _revoke_all(s, c, principal.actor, f"campaign rejected: {comment}", now)
        elif _approvals_suffice([r for r in c.reviews if r.decision == "approve"],
                                bool(getattr(policy, "require_legal_and_security", False))):
            c.status, c.decided_at = "approved", now
            row = issue_token(app, s, c, now)
            record(s, principal.actor, "campaign.approve", f"campaign:{c.id}", token_id=row.id,
                   expires_at=row.expires_at.isoformat())
    return c


def _revoke_all(session: Session, c: Campaign, actor: str, reason: str, now: datetime) -> list[str]:
    revoked = []
    for t in c.tokens:
        if t.revoked_at is None:
            t.revoked_at, t.revoked_by, t.revoke_reason = now, actor, reason
            revoked.append(t.id)
    if revoked:
        record(session, actor, "approval_token.revoke", f"campaign:{c.id}", tokens=revoked, reason=reason)
    return revoked


def revoke_approval(app: Flask, principal: Principal, campaign_id: int, reason: str) -> list[str]:
    """Revoke every live approval token of a campaign (reviewers only)."""
    if principal.role not in REVIEWER_ROLES:
        raise NotAllowed(f"role {principal.role} cannot revoke approvals")
    with transaction(services(app).sessions) as s:
        c = s.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
        if c is None:
            raise CampaignNotFound(f"no campaign with id {campaign_id}")
        revoked = _revoke_all(s, c, principal.actor, reason.strip(), datetime.now(UTC))
        if not revoked:
            raise WorkflowError("the campaign has no live approval token")
    return revoked
