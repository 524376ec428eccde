"""Gather report data from the service (campaigns, monitoring history, the ledger) for ``reports``."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.services import services
from reports.data import (
    CampaignReportData,
    DomainChange,
    DomainReportData,
    EventRow,
    FindingRow,
    MessageSummary,
    PeriodReportData,
    PostureChange,
    PostureData,
    ReportMeta,
    ReviewRow,
    StateRow,
    SubjectReportData,
    TokenRow,
)

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# A posture stored this long after a campaign's own timestamp still belongs to its audit: the
# submission runs the audit first and stamps the campaign after.
_POSTURE_SLACK = timedelta(seconds=5)


DEFAULT_HISTORY_DAYS = 30


class ReportNotFound(LookupError):
    """The thing to report on does not exist."""


class ReportInputError(ValueError):
    """The request for a report is malformed."""


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _ledger(app: Flask) -> Any:
    from auditor.ledger.services import get_ledger

    return get_ledger(app)


def report_meta(app: Flask, generated_by: str = "", checkpoint: dict[str, Any] | None = None) -> ReportMeta:
    """Cover facts: now, the ledger's size and its latest signed checkpoint."""
    ledger = _ledger(app)
    return ReportMeta(generated_at=datetime.now(UTC).replace(microsecond=0), ledger_size=ledger.size(),
                      checkpoint=checkpoint or ledger.latest_checkpoint(), generated_by=generated_by)


# --- campaign -------------------------------------------------------------------------------

def campaign_data(app: Flask, campaign_id: int, generated_by: str = "") -> CampaignReportData:
    """A stored campaign with its reviews, tokens, coverage and the sender's posture then."""
    from auditor.campaigns.models import Campaign

    with services(app).sessions() as s:
        c = s.get(Campaign, campaign_id)
        if c is None:
            raise ReportNotFound(f"no campaign with id {campaign_id}")
        doc = c.document or {}
        sender, message = doc.get("sender") or {}, doc.get("message") or {}
        created = _aware(c.created_at)
        posture = _posture_at(s, sender.get("domain", ""), created + _POSTURE_SLACK) if created else None
        marking = message.get("ad_marking") or {}
        return CampaignReportData(
            meta=report_meta(app, generated_by), id=c.id, name=c.name, status=c.status, channel=c.channel,
            purpose=c.purpose, jurisdictions=list(doc.get("jurisdictions") or []), submitted_by=c.submitted_by,
            created_at=created, decided_at=_aware(c.decided_at), content_sha256=c.content_sha256,
            message=MessageSummary(from_=sender.get("from", ""), subject=_subject_of(message),
                                   sender_domain=sender.get("domain", ""), ad_label=marking.get("label", ""),
                                   erid=marking.get("erid", ""), legal_name=sender.get("legal_name", ""),
                                   unsubscribe=doc.get("unsubscribe", ""),
                                   scheduled_at=doc.get("scheduled_at") or ""),
            findings=[FindingRow.of(f) for f in c.findings or []],
            reviews=[ReviewRow(r.reviewer, r.role, r.decision, r.comment, _aware(r.created_at)) for r in c.reviews],
            recipients=c.recipient_count, allowed=c.allowed_count, suppressed=c.suppressed_count,
            reasons=dict(c.reasons or {}), warnings=dict(c.warnings or {}), posture=posture,
            tokens=[TokenRow(t.id, t.content_sha256, _aware(t.issued_at), _aware(t.expires_at),
                             _aware(t.revoked_at), t.revoke_reason) for t in c.tokens])


def _subject_of(message: dict[str, Any]) -> str:
    """The subject line: given, or read from the raw message."""
    if message.get("subject"):
        return str(message["subject"])
    raw = message.get("raw")
    if raw:
        import email
        import email.policy

        return str(email.message_from_string(raw, policy=email.policy.default).get("Subject") or "")
    return ""


def _posture_at(s: Session, domain: str, when: datetime) -> PostureData | None:
    """The domain's latest stored audit at or before ``when``."""
    try:
        from auditor.monitoring.models import AuditResult
        from auditor.monitoring.services import MonitoringError, normalise_domain
    except ImportError:  # monitoring not installed: no stored posture
        return None
    try:
        domain = normalise_domain(domain)
    except MonitoringError:
        return None
    row = s.scalars(select(AuditResult).where(AuditResult.kind == "domain", AuditResult.target == domain,
                                              AuditResult.checked_at <= when)
                    .order_by(AuditResult.checked_at.desc(), AuditResult.seq.desc()).limit(1)).first()
    return PostureData.of(row.audit, _aware(row.checked_at)) if row else None


# --- domain ---------------------------------------------------------------------------------

def _rule_ids(doc: dict[str, Any]) -> set[str]:
    return {f.get("rule_id", "") for f in doc.get("findings") or []}


def _day_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    lo = datetime.combine(since, time.min, UTC) if since else None
    hi = datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None
    return lo, hi


def domain_data(app: Flask, domain: str, since: date | None = None, until: date | None = None,
                generated_by: str = "") -> DomainReportData:
    """Latest posture of a domain and its stored checks between two dates (inclusive)."""
    from auditor.monitoring.models import AuditResult
    from auditor.monitoring.services import MonitoringError, normalise_domain

    try:
        target = normalise_domain(domain)  # the form monitoring stores: lower-case A-labels
    except MonitoringError as exc:
        raise ReportInputError(str(exc)) from None
    if since is None:  # a domain checked hourly has thousands of results; default to a month
        since = (until or datetime.now(UTC).date()) - timedelta(days=DEFAULT_HISTORY_DAYS)
    lo, hi = _day_bounds(since, until)
    with services(app).sessions() as s:
        rows = s.scalars(select(AuditResult).where(AuditResult.kind == "domain", AuditResult.target == target)
                         .order_by(AuditResult.seq)).all()
        if not rows:
            raise ReportNotFound(f"no stored audit of {target}; run `auditor check domain` or add it to monitoring")
        history, previous = [], None
        for r in rows:
            at = _aware(r.checked_at)
            ids = _rule_ids(r.audit)
            before = _rule_ids(previous.audit) if previous is not None else set()
            previous = r
            if (lo and at < lo) or (hi and at >= hi):
                continue
            counts = Counter(f.get("severity", "info") for f in r.audit.get("findings") or [])
            history.append(PostureChange(checked_at=at, block=counts["block"], warn=counts["warn"],
                                         info=counts["info"], added=sorted(ids - before),
                                         removed=sorted(before - ids)))
        latest = rows[-1]
        posture = PostureData.of(latest.audit, _aware(latest.checked_at))
        from auditor.dmarc.views import domain_panel

        sources = domain_panel(s, target, start=since, end=until)
    return DomainReportData(meta=report_meta(app, generated_by), domain=target, posture=posture,
                            history=history, period_from=since, period_to=until, sources=sources)


# --- subject --------------------------------------------------------------------------------

def subject_data(app: Flask, subject: str, generated_by: str = "") -> SubjectReportData:
    """A person's events, each with its inclusion proof against one signed checkpoint."""
    from consent_ledger import InvalidIdentifier

    ledger = _ledger(app)
    subject = subject.strip()
    if _HEX64.match(subject):
        pseudonym = subject
    else:
        try:
            pseudonym = ledger.pseudonym_of(subject, "email" if "@" in subject else "sms")
        except InvalidIdentifier as exc:
            raise ReportInputError(f"not an e-mail address or phone number: {exc}") from None
    history = ledger.history(pseudonym)
    if not history:
        raise ReportNotFound("the ledger holds no event for this subject")
    cp = ledger.latest_checkpoint()
    if cp is None or cp["size"] < history[-1]["seq"]:
        cp = ledger.checkpoint()
    events = []
    for ev in history:
        proof = ledger.inclusion_proof(ev["seq"], size=cp["size"])
        events.append(EventRow(seq=ev["seq"], type=ev["type"], channel=ev["channel"], purpose=ev["purpose"],
                               recorded_at=ev.get("recorded_at", ""), claimed_at=ev.get("claimed_at"),
                               method=ev.get("method"), legal_basis=ev.get("legal_basis"),
                               jurisdiction=ev.get("jurisdiction"), evidence=dict(ev.get("evidence") or {}),
                               leaf_hash=proof["leaf_hash"], proof=proof))
    states = [StateRow(st.channel, st.purpose, st.status, st.confirmed, st.last_seq, st.updated_at,
                       st.expires_at, st.evidence_complete) for st in ledger.states_of(pseudonym)]
    return SubjectReportData(meta=report_meta(app, generated_by, checkpoint=cp), subject=subject,
                             pseudonym=pseudonym, states=states, events=events, checkpoint=cp,
                             public_key_pem=events[0].proof["public_key"])


# --- period ---------------------------------------------------------------------------------

def period_data(app: Flask, since: date, until: date, generated_by: str = "") -> PeriodReportData:
    """Campaigns, findings, unsubscribes and posture changes between two dates (inclusive)."""
    from auditor.campaigns.models import Campaign

    if until < since:
        raise ReportInputError("--to is before --from")
    lo, hi = _day_bounds(since, until)
    by_status: Counter[str] = Counter()
    per_day: dict[date, Counter[str]] = {since + timedelta(days=i): Counter()
                                         for i in range((until - since).days + 1)}
    rules: Counter[str] = Counter()
    with services(app).sessions() as s:
        for c in s.scalars(select(Campaign).where(Campaign.created_at >= lo, Campaign.created_at < hi)):
            by_status[c.status] += 1
            per_day.setdefault(_aware(c.created_at).date(), Counter())[c.status] += 1
            rules.update({f["rule_id"] for f in c.findings or []})  # campaigns with the finding
        changes = _posture_changes(s, lo, hi)
    count, seconds = _unsubscribes(app, lo, hi)
    return PeriodReportData(meta=report_meta(app, generated_by), date_from=since, date_to=until,
                            by_status=dict(by_status), per_day=[(d, dict(v)) for d, v in sorted(per_day.items())],
                            top_findings=rules.most_common(10), unsubscribes=count,
                            unsubscribe_seconds=seconds, domain_changes=changes,
                            delivery=_delivery(app, since, until))


def _delivery(app: Flask, since: date, until: date) -> list[dict[str, Any]]:
    """The delivery section's figures (auditor/delivery)."""
    from auditor.campaigns.services import current_policy
    from auditor.delivery.views import overview

    with services(app).sessions() as s:
        return overview(s, since, until, current_policy(app))


def _posture_changes(s: Session, lo: datetime, hi: datetime) -> list[DomainChange]:
    """Checks in the period whose findings differ from the same domain's check before."""
    try:
        from auditor.monitoring.models import AuditResult
    except ImportError:
        return []
    targets = select(AuditResult.target).where(AuditResult.kind == "domain", AuditResult.checked_at >= lo,
                                               AuditResult.checked_at < hi).distinct()
    rows = s.execute(select(AuditResult.target, AuditResult.checked_at, AuditResult.audit)
                     .where(AuditResult.kind == "domain", AuditResult.target.in_(targets),
                            AuditResult.checked_at < hi)
                     .order_by(AuditResult.target, AuditResult.seq))
    out, last = [], {}
    for target, checked_at, audit in rows:
        now, before = _rule_ids(audit), last.get(target)
        last[target] = now
        at = _aware(checked_at)
        if before is not None and at >= lo and now != before:
            out.append(DomainChange(target, at, sorted(now - before), sorted(before - now)))
    return sorted(out, key=lambda c: c.checked_at)


# Withdrawals whose delay to the ledger is measured: Auditor's own unsubscribe link and one-click
# (recorded as they happen), and the API or an integration reporting the event's own time. CLI
# appends and imports carry historical withdrawals; their age is not a latency (issue 13).
MEASURED_ACTORS = ("unsubscribe:", "key:", "integration:")


def _unsubscribes(app: Flask, lo: datetime, hi: datetime) -> tuple[int, list[float]]:
    """Withdrawals recorded in the period, and the delay to record of those measured (MEASURED_ACTORS)."""
    from consent_ledger.schema import events

    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # noqa: E731 - the ledger's own format
    count, seconds = 0, []
    with services(app).engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.event).where(events.c.type == "withdrawn",
                                                           events.c.recorded_at >= stamp(lo),
                                                           events.c.recorded_at < stamp(hi)))
        for (text,) in rows:
            count += 1
            ev = json.loads(text)
            actor = str(ev.get("actor") or "")
            if not actor.startswith(MEASURED_ACTORS):
                continue
            if ev.get("claimed_at"):
                delta = _ts(ev["recorded_at"]) - _ts(ev["claimed_at"])
                seconds.append(max(0.0, delta.total_seconds()))
            elif actor.startswith("unsubscribe:"):  # recorded by Auditor the moment the person asked
                seconds.append(0.0)
    return count, seconds


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- one entry point for the CLI, the views and the background job -------------------------

KINDS = ("campaign", "domain", "subject", "period")


def build_pdf(app: Flask, kind: str, params: dict[str, Any], lang: str = "en", generated_by: str = "") -> bytes:
    """The PDF of report ``kind`` for JSON-able ``params`` (dates as YYYY-MM-DD)."""
    import reports

    def day(key: str) -> date | None:
        value = params.get(key)
        try:
            return date.fromisoformat(value) if value else None
        except (TypeError, ValueError):
            raise ReportInputError(f"{key}: not a date (YYYY-MM-DD): {value!r}") from None

    if kind == "campaign":
        return reports.campaign_pdf(campaign_data(app, int(params["id"]), generated_by), lang)
    if kind == "domain":
        return reports.domain_pdf(domain_data(app, params["domain"], day("from"), day("to"), generated_by), lang)
    if kind == "subject":
        return reports.subject_pdf(subject_data(app, params["q"], generated_by), lang)
    if kind == "period":
        since, until = day("from"), day("to")
        if since is None or until is None:
            raise ReportInputError("a period report needs from and to (YYYY-MM-DD)")
        return reports.period_pdf(period_data(app, since, until, generated_by), lang)
    raise ReportInputError(f"unknown report kind {kind!r}; one of {', '.join(KINDS)}")


def jobs_folder(app: Flask) -> Any:
    """Where background reports are written: ``<instance>/reports`` (0700)."""
    folder = services(app).settings.instance_path / "reports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def job_status(app: Flask, job_id: str) -> dict[str, Any] | None:
    """{id, kind, owner, status: pending|done|failed, error?} of a background report, or None."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", job_id):
        return None
    folder = jobs_folder(app)
    meta = folder / f"{job_id}.json"
    if not meta.exists():
        return None
    info = json.loads(meta.read_text())
    if (folder / f"{job_id}.pdf").exists():
        info["status"] = "done"
    elif (folder / f"{job_id}.err").exists():
        info["status"], info["error"] = "failed", (folder / f"{job_id}.err").read_text()
    else:
        info["status"] = "pending"
    return info


def start_job(app: Flask, kind: str, params: dict[str, Any], lang: str, owner_id: int, generated_by: str) -> str:
    """Record a background report and enqueue it (inline when no broker is set); its id."""
    import secrets

    from auditor.jobs import enqueue

    job_id = secrets.token_urlsafe(18)
    (jobs_folder(app) / f"{job_id}.json").write_text(json.dumps(
        {"id": job_id, "kind": kind, "params": params, "lang": lang, "owner": owner_id,
         "requested_at": datetime.now(UTC).isoformat()}))
    enqueue("reports.render", app=app, job_id=job_id)  # auditor.reports.tasks.render_report
    return job_id
