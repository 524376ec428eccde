"""The campaign audit: message checks, law packs, posture and consent coverage into one verdict.

Used by the API (which stores the result) and by ``auditor check campaign`` (which does not).
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import rfc8785

from auditor.campaigns.coverage import Coverage, RecipientVerdict, evaluate_recipients, summarise
from auditor.campaigns.schemas import CampaignDocument
from checks.findings import SEVERITY_ORDER, Finding
from consent_ledger.bulk import collector_paused

# Structural defects after which the parsed message is not the message the sender meant.
_FATAL_DEFECTS = (
    email.errors.MissingHeaderBodySeparatorDefect,
    email.errors.FirstHeaderLineIsContinuationDefect,
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.InvalidMultipartContentTransferEncodingDefect,
    email.errors.MisplacedEnvelopeHeaderDefect,
)
# Headers the gate adds per recipient when the campaign says "unsubscribe": "auditor".
_GATE_SUPPLIED = {"MSG-LIST-UNSUBSCRIBE-MISSING", "MSG-ONE-CLICK-MISSING", "BULK-ONE-CLICK"}


class MalformedMessage(ValueError):
    """The message cannot be parsed as RFC 5322 / MIME; ``problems`` say where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class CampaignInvalid(ValueError):
    """The document passes the schema but the rule engine cannot use it; ``errors`` say why."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e.get("msg", "") for e in errors))
        self.errors = errors


def content_sha256(message: dict[str, Any]) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of the campaign's ``message`` object as submitted."""
    return hashlib.sha256(rfc8785.dumps(message)).hexdigest()


def parse_raw(raw: str) -> bytes:
    """The raw message as bytes, refusing text that does not parse as RFC 5322 / MIME."""
    try:
        data = raw.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedMessage([f"message.raw is not encodable text: {exc.reason}"]) from None
    msg = email.message_from_bytes(data, policy=email.policy.default)
    problems = []
    if not msg.keys():
        problems.append("message.raw has no header section")
    for part in msg.walk():
        for d in part.defects:
            if isinstance(d, _FATAL_DEFECTS):
                problems.append(f"{type(d).__name__}: {str(d) or (d.__doc__ or '').strip()}")
    if problems:
        raise MalformedMessage(problems)
    return data


def facts_of(doc: CampaignDocument) -> Any:
    """The rule engine's CampaignFacts for a document."""
    from pydantic import ValidationError

    from checks.rules import CampaignFacts

    try:
        return CampaignFacts.model_validate(doc.model_dump(mode="json", by_alias=True, exclude_none=True))
    except ValidationError as exc:
        from auditor.errors import validation_errors

        raise CampaignInvalid(validation_errors(exc)) from None


def message_input(doc: CampaignDocument) -> Any:
    """The message to check: parsed raw bytes, or one built from the parts."""
    m = doc.message
    if m.raw is not None:
        if any(v for v in (m.subject, m.html, m.text, m.headers)):
            raise MalformedMessage(["send either message.raw or subject/html/text/headers, not both"])
        return parse_raw(m.raw)
    if not (m.html or m.text):
        raise MalformedMessage(["the message needs message.raw, or message.html and/or message.text"])
    from checks.message import build_message

    try:
        return build_message(from_=doc.sender.from_, subject=m.subject or "", html=m.html,
                             text=m.text, headers=dict(m.headers))
    except (ValueError, TypeError, email.errors.MessageError) as exc:
        raise MalformedMessage([f"the message cannot be built: {exc}"]) from None


def check_message_of(doc: CampaignDocument, *, resolver: Any, blocklists: Any) -> Any:
    """Run the message checks; with ``unsubscribe: auditor`` the gate supplies the headers.

    Only an email is an RFC 5322 message: SMS, voice, push and messenger texts get the checks
    of a text (a visible way out, links), never the header, DKIM or List-Unsubscribe rules.
    """
    from checks.message import check_message

    marketing = doc.advertising or doc.purpose == "marketing"
    if doc.channel != "email":
        from checks.message.sms import check_text_message

        m = doc.message
        return check_text_message(channel=doc.channel, text=m.text, html=m.html, subject=m.subject,
                                  marketing=marketing, resolver=resolver, blocklists=blocklists)
    raw = message_input(doc)
    try:
        report = check_message(raw, resolver=resolver, marketing=marketing,
                               bulk=True, envelope_domain=doc.sender.domain,
                               blocklists=blocklists)
    except (ValueError, email.errors.MessageError) as exc:
        raise MalformedMessage([f"the message does not parse: {exc}"]) from None
    if doc.unsubscribe == "auditor":
        kept = [f for f in report.findings if f.rule_id not in _GATE_SUPPLIED]
        try:  # the gate adds RFC 8058 headers per recipient; the sender's MTA signs them
            report = replace(report, findings=kept, one_click=True)
        except (TypeError, ValueError):
            pass
    return report


def dedupe(findings: list[Finding]) -> list[Finding]:
    """Findings without repeats of the same rule, subject and detail."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in findings:
        k = (f.rule_id, f.subject, f.detail)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def verdict(findings: list[Finding], coverage: Coverage, policy: Any) -> str:
    """``blocked`` on any block, ``needs_review`` on any warn; else approved if policy auto-approves."""
    worst = max((SEVERITY_ORDER[f.severity] for f in findings), default=-1)
    if worst >= SEVERITY_ORDER["block"]:
        return "blocked"
    # A recipient's block only suppresses that recipient (the gate enforces it); a recipient's
    # warn (unconfirmed, weak evidence, consent quality) still wants a reviewer's eye.
    if worst >= SEVERITY_ORDER["warn"] or coverage.warnings:
        return "needs_review"
    return "approved" if getattr(policy, "auto_approve", False) else "needs_review"


@dataclass
class CampaignAudit:
    """The outcome of auditing one campaign."""

    status: str
    findings: list[Finding]
    coverage: Coverage
    verdicts: list[RecipientVerdict]
    content_sha256: str
    checked_at: datetime


def audit_campaign(doc: CampaignDocument, message_json: dict[str, Any], *, message: Any,
                   posture: Any, ledger: Any, policy: Any, now: datetime,
                   measured_spam_rate: Any = None) -> CampaignAudit:
    """Combine the message report, the posture and the ledger into findings and a status."""
    from checks.rules import apply_policy, evaluate_campaign
    from checks.rules.base import cite

    facts = facts_of(doc)
    if measured_spam_rate is not None:  # the delivery events' figure (docs/delivery.md)
        facts = facts.model_copy(update={"measured_spam_rate": measured_spam_rate})
    # the message checks know no jurisdiction: their multi-law citations are narrowed here
    found: list[Finding] = cite(list(message.findings), facts) if message is not None else []
    if posture is not None:
        found += list(posture.findings)
    found += evaluate_campaign(facts, message=message, posture=posture, policy=policy)
    if doc.unsubscribe == "auditor":
        found = [f for f in found if f.rule_id not in _GATE_SUPPLIED]
    found = dedupe(apply_policy(found, policy))
    found.sort(key=lambda f: (-SEVERITY_ORDER[f.severity], f.rule_id, f.subject))
    with collector_paused(len(doc.recipients)):
        verdicts = evaluate_recipients(ledger, doc.recipients, facts=facts, policy=policy, now=now)
    coverage = summarise(verdicts)
    return CampaignAudit(verdict(found, coverage, policy), found, coverage, verdicts,
                         content_sha256(message_json), now)
