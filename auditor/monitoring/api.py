"""JSON API of domain posture and monitoring: audit now, posture with history, monitored assets."""

from __future__ import annotations

from typing import Any

from flask import current_app

from auditor.accounts.services import Principal
from auditor.api import route
from auditor.db import transaction
from auditor.errors import ApiError
from auditor.monitoring import services as svc
from auditor.monitoring.schemas import (
    AssetIn,
    AssetList,
    AssetOut,
    AuditIn,
    AuditOut,
    HistoryQuery,
    PostureOut,
)
from auditor.services import db, services
from checks.zone_server import ZoneError


def _invalid(exc: Exception, loc: str) -> ApiError:
    return ApiError(422, "Invalid request", str(exc), errors=[{"loc": loc, "msg": str(exc)}])


def _domain(value: str) -> str:
    try:
        return svc.normalise_domain(value)
    except svc.MonitoringError as exc:
        raise _invalid(exc, "domain") from None


@route("/domains/<domain>/audit", methods=("POST",), scope="domain:write", body=AuditIn, response=AuditOut,
       tags=("domains",), summary="Run the DNS and blocklist audit of a domain now (or preflight a proposed zone)", localised=True)
def audit_domain_now(principal: Principal, domain: str, body: AuditIn) -> dict[str, Any]:
    """Audit now; a live audit is stored in the history and diffed, a preflight is not."""
    domain = _domain(domain)
    try:
        selectors = tuple(svc.normalise_selector(s) for s in body.selectors)
        ips = tuple(svc.normalise_ip(i) for i in body.ips)
    except svc.MonitoringError as exc:
        raise _invalid(exc, "body") from None
    if body.zone is not None:
        return _preflight(domain, body.zone, selectors, ips)
    if body.discover_selectors:  # issue 18
        from auditor.dmarc.selectors import discover_and_learn

        found = discover_and_learn(current_app, domain, svc.resolver_of(current_app))
        selectors = tuple(dict.fromkeys([*selectors, *found]))
    outcome = svc.audit_and_record(current_app, "domain", domain, selectors=selectors, ips=ips, source="api")
    return {**outcome.to_dict(), "preflight": False, "stored": True}


def _preflight(domain: str, zone: str, selectors: tuple[str, ...], ips: tuple[str, ...]) -> dict[str, Any]:
    from checks.preflight import preflight_zone

    # Blocklists are not part of a zone: the preflight server answers only for the proposed zone,
    # so lists are left out here (the live audit checks them).
    try:
        audit = preflight_zone(zone, domain, selectors=selectors, ips=ips, timeout=services().settings.dns_timeout)
    except ZoneError as exc:
        raise ApiError(422, "Invalid zone", str(exc), errors=[{"loc": "zone", "msg": str(exc)}]) from None
    doc = svc.jsonable(audit.to_dict())
    return {"target": doc.get("target", domain), "kind": "domain", "preflight": True, "stored": False,
            "result_id": None, "baseline": None, "checked_at": doc.get("checked_at"), "summary": svc.summarise(doc, {}),
            "findings": doc.get("findings", []), "records": doc.get("records", {}),
            "blocklists": doc.get("blocklists", []), "changes": [], "alerts": []}


@route("/domains/<domain>", scope="domain:read", query=HistoryQuery, response=PostureOut, tags=("domains",),
       summary="A domain's latest posture and its audit history with the changes between audits", localised=True)
def domain_posture(principal: Principal, domain: str, query: HistoryQuery) -> dict[str, Any]:
    """Latest posture and history."""
    view = svc.posture_view(db(), "domain", _domain(domain), query.limit)
    if view is None:
        raise ApiError(404, "Not Found", f"{domain} has never been audited: POST /api/v1/domains/{domain}/audit")
    return view


@route("/ips/<ip>", scope="domain:read", query=HistoryQuery, response=PostureOut, tags=("domains",),
       summary="An IP's latest blocklist and PTR posture and its audit history", localised=True)
def ip_posture(principal: Principal, ip: str, query: HistoryQuery) -> dict[str, Any]:
    """Latest posture and history of a monitored IP."""
    try:
        ip = svc.normalise_ip(ip)
    except svc.MonitoringError as exc:
        raise _invalid(exc, "ip") from None
    view = svc.posture_view(db(), "ip", ip, query.limit)
    if view is None:
        raise ApiError(404, "Not Found", f"{ip} has never been audited")
    return view


@route("/monitoring/assets", scope="domain:read", response=AssetList, tags=("monitoring",),
       summary="Monitored domains and IPs with their schedules")
def list_assets(principal: Principal) -> dict[str, Any]:
    """Every monitored asset."""
    return {"assets": [a.to_dict() for a in svc.list_assets(db())]}


@route("/monitoring/assets", methods=("POST",), scope="domain:write", body=AssetIn, response=AssetOut,
       status=201, tags=("monitoring",),
       summary="Monitor a domain (with DKIM selectors and sending IPs) or an IP; merges into an existing entry")
def add_asset(principal: Principal, body: AssetIn) -> dict[str, Any]:
    """Add or extend a monitored asset."""
    try:
        with transaction(services().sessions) as s:
            asset, created = svc.add_asset(s, body.kind, body.value, selectors=body.selectors, ips=body.ips,
                                           interval_minutes=body.interval_minutes)
            return {**asset.to_dict(), "created": created}
    except svc.MonitoringError as exc:
        raise _invalid(exc, "body") from None


@route("/monitoring/assets/<int:asset_id>", methods=("DELETE",), scope="domain:write", response=AssetOut,
       tags=("monitoring",), summary="Stop monitoring an asset (its history is kept)")
def remove_asset(principal: Principal, asset_id: int) -> dict[str, Any]:
    """Delete a monitored asset."""
    with transaction(services().sessions) as s:
        asset = s.get(svc.MonitoredAsset, asset_id)
        if asset is None:
            raise ApiError(404, "Not Found", f"no monitored asset {asset_id}")
        view = asset.to_dict()
        s.delete(asset)
    return view
