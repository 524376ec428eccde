"""JSON API of receivers' reports: post a report; a domain's sources, TLS results and selectors."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from auditor.accounts.services import Principal
from auditor.api import route
from auditor.db import transaction
from auditor.dmarc import services as svc
from auditor.dmarc.schemas import PeriodQuery, ReportOut, SelectorsOut, SourcesOut, TlsReportsOut
from auditor.dmarc.selectors import list_selectors
from auditor.errors import ApiError
from auditor.monitoring.services import MonitoringError, normalise_domain
from auditor.services import services
from checks.dmarc_reports import ReportRefused
from checks.resolver import make_resolver


def _domain(value: str) -> str:
    try:
        return normalise_domain(value)
    except MonitoringError as exc:
        raise ApiError(422, "Invalid request", str(exc), errors=[{"loc": "domain", "msg": str(exc)}]) from None


def _period(query: PeriodQuery) -> tuple[Any, Any]:
    try:
        return svc.period(query.from_, query.to)
    except ValueError as exc:
        raise ApiError(422, "Invalid query", str(exc), errors=[{"loc": "from", "msg": str(exc)}]) from None


@route("/dmarc/reports", methods=("POST",), scope="domain:write", response=ReportOut, status=201,
       raw_body="application/octet-stream", tags=("dmarc",),
       errors={422: "not a report, or a hostile one (the detail says why); nothing stored"},
       summary="Post one DMARC aggregate or SMTP TLS report (xml, gzip, zip, json, or an email carrying one)", localised=True)
def post_dmarc_report(principal: Principal) -> tuple[dict[str, Any], int]:
    """Store the report; 201 when new, 200 when that reporter's report id is already stored."""
    try:
        out = svc.ingest(current_app, request.get_data(cache=False), via="api")
    except ReportRefused as exc:
        raise ApiError(422, "Not a report", str(exc)) from None
    body = {**out.summary, "findings": [f.to_dict() for f in out.findings]}
    return body, 201 if out.status == "imported" else 200


@route("/domains/<domain>/sources", scope="domain:read", query=PeriodQuery, response=SourcesOut,
       tags=("dmarc",), summary="Who sends as the domain: each source IP with alignment counts and a verdict", localised=True)
def domain_sources(principal: Principal, domain: str, query: PeriodQuery) -> dict[str, Any]:
    """The sources table of the period (default the last 30 days), unauthorised first."""
    domain = _domain(domain)
    start, end = _period(query)
    app = services()
    resolver = make_resolver(app.nameservers, app.settings.dns_timeout)
    with transaction(app.sessions) as s:
        rows = svc.sources(s, domain, start, end, resolver)
        tls = svc.tls_policies(s, domain, start, end)
    found = svc.source_findings(domain, rows) + svc.tls_findings(domain, tls)
    return {"domain": domain, "from": start.isoformat(), "to": end.isoformat(),
            "sources": [svc.source_view(r) for r in rows], "findings": [f.to_dict() for f in found]}


@route("/domains/<domain>/tls-reports", scope="domain:read", query=PeriodQuery, response=TlsReportsOut,
       tags=("dmarc",), summary="SMTP TLS report totals of the domain's policies over the period", localised=True)
def domain_tls_reports(principal: Principal, domain: str, query: PeriodQuery) -> dict[str, Any]:
    """TLS session totals per policy with failure details."""
    domain = _domain(domain)
    start, end = _period(query)
    with services().sessions() as s:
        policies = svc.tls_policies(s, domain, start, end)
    return {"domain": domain, "from": start.isoformat(), "to": end.isoformat(), "policies": policies,
            "findings": [f.to_dict() for f in svc.tls_findings(domain, policies)]}


@route("/domains/<domain>/selectors", scope="domain:read", response=SelectorsOut, tags=("dmarc",),
       summary="The domain's DKIM selectors and where each was learned")
def domain_selectors(principal: Principal, domain: str) -> dict[str, Any]:
    """Configured, discovered and learned selectors."""
    domain = _domain(domain)
    with services().sessions() as s:
        return {"domain": domain, "selectors": list_selectors(s, domain)}
