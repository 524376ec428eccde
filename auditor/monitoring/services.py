"""Monitoring behaviour: run and store audits, diff consecutive ones, alert on change, schedule."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from auditor.db import transaction, utcnow
from auditor.monitoring import alerts as alerting
from auditor.monitoring import observed
from auditor.monitoring.diff import Change, baseline_changes, diff, listed_state
from auditor.monitoring.models import (
    ASSET_KINDS,
    DEFAULT_INTERVAL_MINUTES,
    Alert,
    AuditResult,
    ChangeEvent,
    MonitoredAsset,
)
from auditor.services import services

__all__ = ["Change", "diff", "latest_posture", "run_audit", "record_audit", "history"]

STORE_ATTEMPTS = 5
MIN_INTERVAL_MINUTES = 5
MAX_SELECTORS = 32
MAX_IPS = 64
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_SELECTOR = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]{0,62})$")


class MonitoringError(ValueError):
    """A monitoring request that cannot be honoured; the message says why."""


# --- names ----------------------------------------------------------------------------------

def normalise_domain(value: str) -> str:
    """Lower-case A-label form of a domain name, without the root dot; MonitoringError if not one."""
    v = (value or "").strip().rstrip(".").lower()
    try:
        v = v.encode("idna").decode("ascii")
    except UnicodeError:
        raise MonitoringError(f"not a domain name: {value!r}") from None
    labels = v.split(".")
    if len(v) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise MonitoringError(f"not a domain name: {value!r}")
    return v


def normalise_ip(value: str) -> str:
    """The canonical text of an IPv4 or IPv6 address; MonitoringError if not one."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        raise MonitoringError(f"not an IP address: {value!r}") from None


def normalise_selector(value: str) -> str:
    """A DKIM selector (RFC 6376 §3.1: dot-separated labels), lower-cased."""
    v = (value or "").strip().lower()
    if not _SELECTOR.match(v) or ".." in v or v.endswith("."):
        raise MonitoringError(f"not a DKIM selector: {value!r}")
    return v


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))


# --- running an audit -----------------------------------------------------------------------

def resolver_of(app: Flask) -> Any:
    """A fresh resolver on the configured nameservers (its cache lives for one audit)."""
    from checks.resolver import make_resolver

    svc = services(app)
    return make_resolver(svc.nameservers, svc.settings.dns_timeout)


def blocklists_of(app: Flask) -> Any:
    """The configured blocklists (``AUDITOR_BLOCKLISTS``)."""
    from checks.blocklists import parse_blocklists

    return parse_blocklists(services(app).settings.blocklists)


def perform_audit(app: Flask, kind: str, target: str, *, selectors: tuple[str, ...] = (),
                  ips: tuple[str, ...] = ()) -> Any:
    """Run the DNS and blocklist audit of a domain or an IP now; nothing stored."""
    from checks.domain_audit import audit_domain, audit_ip

    if kind == "ip":
        return audit_ip(target, resolver=resolver_of(app), blocklists=blocklists_of(app))
    return audit_domain(target, selectors=tuple(selectors), ips=tuple(ips), resolver=resolver_of(app),
                        blocklists=blocklists_of(app))


@dataclass
class Outcome:
    """A stored audit: the audit, its history row, what changed and the alerts sent."""

    audit: Any
    result_id: int
    seq: int
    baseline: bool
    changes: list[Change]
    summary: dict[str, Any]
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The API and CLI view."""
        doc = jsonable(self.audit.to_dict())
        return {"target": doc.get("target"), "kind": doc.get("kind"), "result_id": self.result_id,
                "seq": self.seq, "checked_at": doc.get("checked_at"), "baseline": self.baseline,
                "summary": public_summary(self.summary), "findings": doc.get("findings", []), "records": doc.get("records", {}),
                "blocklists": doc.get("blocklists", []), "changes": [c.to_dict() for c in self.changes],
                "alerts": self.alerts}


def run_audit(app: Flask, domain: str, *, selectors: tuple[str, ...] = (), ips: tuple[str, ...] = (),
              source: str = "api") -> Any:
    """Audit ``domain`` now, store it in the history, diff and alert; the DomainAudit."""
    return audit_and_record(app, "domain", domain, selectors=selectors, ips=ips, source=source).audit


def audit_and_record(app: Flask, kind: str, target: str, *, selectors: tuple[str, ...] = (),
                     ips: tuple[str, ...] = (), source: str = "api", asset_id: int | None = None) -> Outcome:
    """Audit a domain or IP now, store the result, record the changes and send the alerts."""
    target = normalise_ip(target) if kind == "ip" else normalise_domain(target)
    selectors = tuple(_unique(normalise_selector(s) for s in selectors))
    ips = tuple(_unique(normalise_ip(i) for i in ips))
    audit = perform_audit(app, kind, target, selectors=selectors, ips=ips)
    outcome = record_audit(app, audit, source=source, asset_id=asset_id)
    outcome.alerts = deliver_alerts(app, [a["id"] for a in outcome.alerts])
    return outcome


def summarise(doc: dict[str, Any], listed: dict[str, str]) -> dict[str, Any]:
    """Counts per severity, the worst one, and what is listed since when."""
    counts = {"block": 0, "warn": 0, "info": 0}
    for f in doc.get("findings") or []:
        counts[f.get("severity", "info")] = counts.get(f.get("severity", "info"), 0) + 1
    worst = next((s for s in ("block", "warn", "info") if counts[s]), None)
    return {**counts, "worst": worst, "listed": listed}


def record_audit(app: Flask, audit: Any, *, source: str, asset_id: int | None = None) -> Outcome:
    """Store ``audit`` after the target's latest result, with its changes and pending alerts."""
    doc = jsonable(audit.to_dict())
    kind, target = doc.get("kind", "domain"), str(doc["target"])
    svc = services(app)
    wanted = alerting.channels(svc.settings)
    for attempt in range(STORE_ATTEMPTS):
        try:
            with transaction(svc.sessions) as s:
                return _store(s, doc, audit, kind, target, source, asset_id, wanted)
        except (IntegrityError, OperationalError):
            # Another job stored a result for this target first (unique (kind, target, seq)),
            # or SQLite refused a stale snapshot: diff again against the new latest result.
            if attempt == STORE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _store(s: Session, doc: dict[str, Any], audit: Any, kind: str, target: str, source: str,
           asset_id: int | None, wanted: dict[str, str]) -> Outcome:
    prev = s.scalars(select(AuditResult).where(AuditResult.kind == kind, AuditResult.target == target)
                     .order_by(AuditResult.seq.desc()).limit(1)).first()
    checked_iso = str(doc.get("checked_at") or utcnow().isoformat())
    if prev is None:
        changes, listed = baseline_changes(doc), listed_state({}, doc)
        last_known = None
    else:
        before = (prev.summary or {}).get("listed") or {}
        # compare with what was last observed, not with a run whose lookups failed
        last_known = observed.effective(prev.audit, prev.summary)
        changes, listed = diff(last_known, doc, listed_before=before), listed_state(before, doc)
    failed, failing = observed.failure_changes((prev.summary or {}).get("failing") if prev else None, doc,
                                               checked_iso)
    changes += [Change(*c) for c in failed]
    carried, unknown = observed.carry(last_known, doc)
    summary = {**summarise(doc, listed), "carried": carried, "unknown": unknown, "failing": failing}
    if asset_id is not None and s.get(MonitoredAsset, asset_id) is None:
        asset_id = None  # removed while its audit ran: keep the result, unlinked
    checked_at = _parse_time(doc.get("checked_at")) or utcnow()
    row = AuditResult(kind=kind, target=target, seq=(prev.seq + 1) if prev else 1, asset_id=asset_id,
                      source=source, checked_at=checked_at, audit=doc, summary=summary, changed=bool(changes))
    s.add(row)
    s.flush()
    for c in changes:
        s.add(ChangeEvent(result_id=row.id, target=target, kind=c.kind, subject=c.subject[:255],
                          severity=c.severity, text=c.text, before=jsonable(c.before), after=jsonable(c.after)))
    pending = []
    if changes:
        body = alerting.payload(target, kind, row.id, checked_at.isoformat(), prev is None,
                                [c.to_dict() for c in changes], summary)
        for channel, dest in wanted.items():
            a = Alert(result_id=row.id, target=target, channel=channel,
                      destination=alerting.shown_destination(channel, dest), payload=jsonable(body),
                      status="pending", attempts=0)
            s.add(a)
            s.flush()
            pending.append({"id": a.id, "channel": channel})
    if asset_id is not None:
        s.execute(update(MonitoredAsset).where(MonitoredAsset.id == asset_id)
                  .values(last_checked_at=checked_at, last_error=None))
    return Outcome(audit, row.id, row.seq, prev is None, changes, summary, pending)


# --- alerts ---------------------------------------------------------------------------------

def deliver_alerts(app: Flask, ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Send the given alerts (default: every pending or failed one with attempts left), once each."""
    svc = services(app)
    dest = alerting.channels(svc.settings)
    now = utcnow()
    # "sending" with a claim older than any delivery can take: the sender died mid-attempt.
    retryable = or_(Alert.status.in_(("pending", "failed")),
                    and_(Alert.status == "sending", Alert.sent_at < now - alerting.STALE_CLAIM))
    with svc.sessions() as s:
        q = select(Alert.id, Alert.attempts).where(retryable, Alert.attempts < alerting.MAX_ATTEMPTS)
        if ids is not None:
            if not ids:
                return []
            q = q.where(Alert.id.in_(ids))
        todo = s.execute(q.order_by(Alert.id)).all()
    out = []
    for alert_id, attempts in todo:
        with transaction(svc.sessions) as s:
            # Claim the attempt first: two retrying processes never send the same alert twice.
            # While "sending", sent_at holds the claim time.
            claimed = s.execute(update(Alert).where(Alert.id == alert_id, Alert.attempts == attempts, retryable)
                                .values(attempts=attempts + 1, status="sending", sent_at=now)).rowcount
        if claimed != 1:
            continue
        with svc.sessions() as s:
            alert = s.get(Alert, alert_id)
        status, error = "sent", None
        try:
            if alert.channel not in dest:
                raise alerting.DeliveryError(f"{alert.channel} alerts are no longer configured")
            if alert.channel == "webhook":
                alerting.send_webhook(dest["webhook"], alert.payload, secret=svc.settings.alert_webhook_secret)
            else:
                host = svc.settings.public_url.split("://", 1)[-1].split("/")[0].split(":")[0]
                alerting.send_email(svc.settings.smtp_url, dest["email"], alert.payload, host)
        except alerting.DeliveryError as exc:
            status, error = "failed", str(exc)
        with transaction(svc.sessions) as s:
            s.execute(update(Alert).where(Alert.id == alert_id).values(
                status=status, error=error, sent_at=utcnow() if status == "sent" else None))
        out.append({"id": alert_id, "channel": alert.channel, "status": status, "error": error})
    return out


# --- reading the history --------------------------------------------------------------------

def latest_posture(session: Session, domain: str) -> tuple[Any | None, datetime | None]:
    """The domain's latest stored audit and when it ran, or (None, None)."""
    from checks.domain_audit import DomainAudit

    try:
        domain = normalise_domain(domain)
    except MonitoringError:
        return None, None
    row = _latest(session, "domain", domain)
    if row is None:
        return None, None
    return DomainAudit.from_dict(row.audit), aware(row.checked_at)


def _latest(session: Session, kind: str, target: str) -> AuditResult | None:
    return session.scalars(select(AuditResult).where(AuditResult.kind == kind, AuditResult.target == target)
                           .order_by(AuditResult.seq.desc()).limit(1)).first()


def history(session: Session, kind: str, target: str, limit: int = 20) -> list[dict[str, Any]]:
    """The target's results, newest first, each with its summary and changes."""
    rows = session.scalars(select(AuditResult).where(AuditResult.kind == kind, AuditResult.target == target)
                           .order_by(AuditResult.seq.desc()).limit(limit)).all()
    return [{"result_id": r.id, "seq": r.seq, "checked_at": aware(r.checked_at), "source": r.source,
             "summary": public_summary(r.summary, listed=False), "baseline": r.seq == 1,
             "changes": [c.to_dict() for c in r.changes]} for r in rows]


def posture_view(session: Session, kind: str, target: str, limit: int = 20) -> dict[str, Any] | None:
    """Latest posture, history with changes and the monitoring entry; None if never seen."""
    row = _latest(session, kind, target)
    asset = session.scalars(select(MonitoredAsset).where(MonitoredAsset.kind == kind,
                                                         MonitoredAsset.value == target)).first()
    if row is None and asset is None:
        return None
    latest = None
    if row is not None:
        doc = row.audit
        latest = {"result_id": row.id, "checked_at": aware(row.checked_at), "summary": public_summary(row.summary),
                  "findings": doc.get("findings", []), "records": doc.get("records", {}),
                  "blocklists": doc.get("blocklists", [])}
    return {"target": target, "kind": kind, "monitored": asset.to_dict() if asset else None,
            "latest": latest, "history": history(session, kind, target, limit)}


# --- assets and schedules -------------------------------------------------------------------

def add_asset(session: Session, kind: str, value: str, *, selectors: list[str] | tuple[str, ...] = (),
              ips: list[str] | tuple[str, ...] = (), interval_minutes: int | None = None) -> tuple[MonitoredAsset, bool]:
    """Watch a domain (with selectors and IPs) or an IP; merges into an existing entry. (asset, created)."""
    if kind not in ASSET_KINDS:
        raise MonitoringError(f"kind must be one of {', '.join(ASSET_KINDS)}")
    value = normalise_ip(value) if kind == "ip" else normalise_domain(value)
    if kind == "ip" and (selectors or ips):
        raise MonitoringError("an IP asset takes no selectors or IPs")
    sels = [normalise_selector(s) for s in selectors]
    addrs = [normalise_ip(i) for i in ips]
    if interval_minutes is not None and interval_minutes < MIN_INTERVAL_MINUTES:
        raise MonitoringError(f"the interval must be at least {MIN_INTERVAL_MINUTES} minutes")
    asset = session.scalars(select(MonitoredAsset).where(MonitoredAsset.kind == kind,
                                                         MonitoredAsset.value == value)).first()
    created = asset is None
    if created:
        asset = MonitoredAsset(kind=kind, value=value, selectors=[], ips=[], enabled=True, version=0,
                               interval_minutes=interval_minutes or DEFAULT_INTERVAL_MINUTES, next_due=utcnow())
        session.add(asset)
    asset.selectors = _unique([*(asset.selectors or []), *sels])
    asset.ips = _unique([*(asset.ips or []), *addrs])
    if len(asset.selectors) > MAX_SELECTORS or len(asset.ips) > MAX_IPS:
        raise MonitoringError(f"at most {MAX_SELECTORS} selectors and {MAX_IPS} IPs per domain")
    if interval_minutes is not None:
        asset.interval_minutes = interval_minutes
    asset.enabled = True
    session.flush()
    return asset, created


def remove_asset(session: Session, kind: str, value: str, *, selector: str | None = None) -> MonitoredAsset:
    """Stop watching an asset, or only one selector of a domain; the history is kept."""
    value = normalise_ip(value) if kind == "ip" else normalise_domain(value)
    asset = session.scalars(select(MonitoredAsset).where(MonitoredAsset.kind == kind,
                                                         MonitoredAsset.value == value)).first()
    if asset is None:
        raise MonitoringError(f"{kind} {value} is not monitored")
    if selector is not None:
        sel = normalise_selector(selector)
        if sel not in (asset.selectors or []):
            raise MonitoringError(f"selector {sel} of {value} is not monitored")
        asset.selectors = [s for s in asset.selectors if s != sel]
    else:
        session.delete(asset)
    session.flush()
    return asset


def list_assets(session: Session) -> list[MonitoredAsset]:
    """Every monitored asset, by kind then value."""
    return list(session.scalars(select(MonitoredAsset).order_by(MonitoredAsset.kind, MonitoredAsset.value)))


def claim_assets(app: Flask, *, due_only: bool = True, now: datetime | None = None,
                 asset_ids: list[int] | None = None) -> list[int]:
    """Claim assets to audit now (due ones, or all enabled); each claimed by exactly one caller.

    A claim is ``UPDATE ... SET version = v + 1, next_due = now + interval WHERE id = ? AND
    version = v [AND next_due <= now]``: of two schedulers racing, the second matches no row.
    """
    svc = services(app)
    now = now or utcnow()
    with svc.sessions() as s:
        q = select(MonitoredAsset.id, MonitoredAsset.version, MonitoredAsset.interval_minutes).where(
            MonitoredAsset.enabled.is_(True))
        if due_only:
            q = q.where(MonitoredAsset.next_due <= now)
        if asset_ids is not None:
            q = q.where(MonitoredAsset.id.in_(asset_ids))
        candidates = s.execute(q.order_by(MonitoredAsset.next_due, MonitoredAsset.id)).all()
    claimed = []
    for asset_id, version, interval in candidates:
        cond = [MonitoredAsset.id == asset_id, MonitoredAsset.version == version, MonitoredAsset.enabled.is_(True)]
        if due_only:
            cond.append(MonitoredAsset.next_due <= now)
        with transaction(svc.sessions) as s:
            n = s.execute(update(MonitoredAsset).where(*cond).values(
                version=version + 1, next_due=now + timedelta(minutes=interval))).rowcount
        if n == 1:
            claimed.append(asset_id)
    return claimed


def release_claim(app: Flask, asset_id: int) -> None:
    """Make a claimed asset due again (its job could not be handed to a worker)."""
    with transaction(services(app).sessions) as s:
        s.execute(update(MonitoredAsset).where(MonitoredAsset.id == asset_id).values(next_due=utcnow()))


def run_asset(app: Flask, asset_id: int) -> Outcome | None:
    """The job: audit one claimed asset, store it, alert on change; None if it is gone."""
    svc = services(app)
    with svc.sessions() as s:
        asset = s.get(MonitoredAsset, asset_id)
        if asset is None or not asset.enabled:
            return None
        kind, value, sels, ips = asset.kind, asset.value, tuple(asset.selectors or ()), tuple(asset.ips or ())
    try:
        return audit_and_record(app, kind, value, selectors=sels, ips=ips, source="monitor", asset_id=asset_id)
    except Exception as exc:
        with transaction(svc.sessions) as s:
            s.execute(update(MonitoredAsset).where(MonitoredAsset.id == asset_id)
                      .values(last_error=f"{type(exc).__name__}: {exc}"[:2000]))
        raise


# --- helpers --------------------------------------------------------------------------------

INTERNAL_SUMMARY = ("carried", "unknown")


def public_summary(summary: dict[str, Any] | None, *, listed: bool = True) -> dict[str, Any]:
    """A stored summary without what only the next diff needs (carried records); ``listed`` optional."""
    drop = INTERNAL_SUMMARY + (() if listed else ("listed",))
    return {k: v for k, v in (summary or {}).items() if k not in drop}


def aware(value: datetime | None) -> datetime | None:
    """``value`` as aware UTC (SQLite hands back naive datetimes)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, str) and value:
        try:
            return aware(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (datetimes as ISO 8601)."""
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)
