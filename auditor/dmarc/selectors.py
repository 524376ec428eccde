"""DKIM selectors of a domain with where they came from; learned ones join the domain's monitoring."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.db import utcnow
from auditor.dmarc.models import DkimSelector
from auditor.monitoring.models import MonitoredAsset
from auditor.monitoring.services import MonitoringError, add_asset, normalise_selector
from checks.catalogue import finding
from checks.findings import Finding
from checks.i18n import msg

ORIGINS = ("configured", "discovered", "dmarc-report", "message")


def learn_selectors(s: Session, domain: str, selectors: Iterable[str], *, origin: str,
                    key_bits: dict[str, int | None] | None = None, status: dict[str, str] | None = None,
                    now: datetime | None = None) -> list[Finding]:
    """Record ``selectors`` of ``domain`` from ``origin``; a new one joins the monitored domain (DKIM-SELECTOR-LEARNED)."""
    now = now or utcnow()
    out: list[Finding] = []
    asset = s.scalars(select(MonitoredAsset).where(MonitoredAsset.kind == "domain",
                                                   MonitoredAsset.value == domain)).first()
    watched = set(asset.selectors or []) if asset is not None else set()
    wanted = []
    for raw in selectors:
        try:
            wanted.append(normalise_selector(raw))
        except MonitoringError:
            continue  # a reporter's garbage is not a selector
    if not wanted:
        return out
    known = {r.selector: r for r in s.scalars(select(DkimSelector).where(DkimSelector.domain == domain,
                                                                         DkimSelector.selector.in_(wanted)))}
    for sel in dict.fromkeys(wanted):
        row = known.get(sel)
        if row is None:
            # A selector someone typed into monitoring before any report named it was configured.
            row = DkimSelector(domain=domain, selector=sel, origins=["configured"] if sel in watched else [],
                               first_seen=now, last_seen=now)
            s.add(row)
        if origin not in row.origins:
            row.origins = [*row.origins, origin]
        row.last_seen = now
        if key_bits and sel in key_bits:
            row.key_bits = key_bits[sel]
        if status and sel in status:
            row.status = status[sel]
        if asset is not None and sel not in watched and origin != "configured":
            try:
                add_asset(s, "domain", domain, selectors=[sel])
            except MonitoringError:
                continue  # the domain's selector list is full; the selector stays listed here
            watched.add(sel)
            out.append(finding("DKIM-SELECTOR-LEARNED", msg(
                "selector {selector} was learned from {origin} and added to monitoring", selector=sel, origin=origin),
                subject=domain, evidence={"selector": sel, "origin": origin}))
    s.flush()
    return out


def list_selectors(s: Session, domain: str) -> list[dict[str, Any]]:
    """The domain's selectors: the monitored ones (``configured``) merged with the learned ones."""
    rows = {r.selector: r for r in s.scalars(select(DkimSelector).where(DkimSelector.domain == domain))}
    asset = s.scalars(select(MonitoredAsset).where(MonitoredAsset.kind == "domain",
                                                   MonitoredAsset.value == domain)).first()
    out: dict[str, dict[str, Any]] = {}
    for sel, r in rows.items():
        out[sel] = {"selector": sel, "origins": list(r.origins), "first_seen": r.first_seen,
                    "last_seen": r.last_seen, "key_bits": r.key_bits, "status": r.status}
    for sel in (asset.selectors or []) if asset is not None else []:
        entry = out.setdefault(sel, {"selector": sel, "origins": [], "first_seen": asset.created_at,
                                     "last_seen": None, "key_bits": None, "status": None})
        if "configured" not in entry["origins"] and not entry["origins"]:
            entry["origins"].insert(0, "configured")
    return sorted(out.values(), key=lambda e: e["selector"])


def discover_and_learn(app: Any, domain: str, resolver: Any) -> list[str]:
    """Probe the common selectors of ``domain``; store those found (origin ``discovered``); their names."""
    from auditor.db import transaction
    from auditor.services import services
    from checks.dns_auth.selectors import discover_selectors

    found = discover_selectors(domain, resolver=resolver)
    if found:
        with transaction(services(app).sessions) as s:
            learn_selectors(s, domain, [f.selector for f in found], origin="discovered",
                            key_bits={f.selector: f.bits for f in found},
                            status={f.selector: "revoked" if f.revoked else "published" for f in found})
    return [f.selector for f in found]


def learn_from_campaign(s: Session, domain: str, message: dict[str, Any]) -> list[Finding]:
    """Selectors that sign a submitted campaign's raw message for its sender domain (origin ``message``)."""
    from checks.dns_auth.selectors import selectors_signed_in

    raw = message.get("raw") if isinstance(message, dict) else None
    if not raw or not domain:
        return []
    return learn_selectors(s, domain.lower().rstrip("."), selectors_signed_in(raw, domain), origin="message")
