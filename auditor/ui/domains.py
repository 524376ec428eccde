"""Domain and IP posture: monitored assets, latest findings, history of changes, blocklists, preflight."""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auditor.accounts.services import record
from auditor.auth import current_principal, requires_role
from auditor.db import transaction
from auditor.monitoring import services as monitoring
from auditor.services import db, services
from auditor.ui import bp
from auditor.ui.access import DOMAIN_READERS, DOMAIN_WRITERS
from auditor.ui.findings import by_pack

MAX_ZONE_BYTES = 64 * 1024


def _kind(target: str) -> str:
    try:
        ipaddress.ip_address(target)
    except ValueError:
        return "domain"
    return "ip"


def _split(value: str) -> list[str]:
    return [v for v in value.replace(",", " ").split() if v]


def _log(action: str, target: str, **detail: Any) -> None:
    db().rollback()  # the request's read snapshot may predate the audit just stored (SQLite WAL)
    with transaction(services().sessions) as s:
        record(s, current_principal().actor, action, target, **detail)


def alerts() -> list[dict] | None:
    """Monitored domains and IPs whose latest audit has a blocking finding."""
    out = []
    for asset in monitoring.list_assets(db()):
        view = monitoring.posture_view(db(), asset.kind, asset.value, limit=1)
        latest = (view or {}).get("latest") or {}
        blocks = (latest.get("summary") or {}).get("block", 0)
        if blocks:
            out.append({"domain": asset.value, "blocks": blocks})
    return out


@bp.get("/domains")
@requires_role(*DOMAIN_READERS)
def domains() -> str:
    """Monitored assets with their latest verdict; add one; open any domain."""
    rows = []
    for asset in monitoring.list_assets(db()):
        view = monitoring.posture_view(db(), asset.kind, asset.value, limit=1) or {}
        rows.append({"asset": asset, "latest": view.get("latest")})
    return render_template("ui/domains.html", rows=rows)


@bp.post("/domains")
@requires_role(*DOMAIN_WRITERS)
def domain_add() -> Response:
    """Start monitoring a domain (with DKIM selectors and sending IPs) or an IP."""
    value = request.form.get("value", "").strip()
    kind = _kind(value)
    try:
        asset, created = monitoring.add_asset(db(), kind, value, selectors=_split(request.form.get("selectors", "")),
                                              ips=_split(request.form.get("ips", "")))
        record(db(), current_principal().actor, "monitor.add", f"{kind}:{asset.value}",
               selectors=asset.selectors, ips=asset.ips, created=created)
        db().commit()
    except monitoring.MonitoringError as exc:
        db().rollback()
        flash(str(exc), "danger")
        return redirect(url_for("ui.domains"), 303)
    flash(_("%(value)s is monitored.", value=asset.value), "success")
    return redirect(url_for("ui.domain", domain=asset.value), 303)


@bp.post("/domains/<domain>/remove")
@requires_role(*DOMAIN_WRITERS)
def domain_remove(domain: str) -> Response:
    """Stop monitoring an asset, or one of its selectors; its history is kept."""
    selector = request.form.get("selector") or None
    try:
        monitoring.remove_asset(db(), _kind(domain), domain, selector=selector)
        record(db(), current_principal().actor, "monitor.remove", f"{_kind(domain)}:{domain}", selector=selector)
        db().commit()
    except monitoring.MonitoringError as exc:
        db().rollback()
        flash(str(exc), "danger")
    else:
        flash(_("Selector %(s)s removed.", s=selector) if selector else _("%(d)s is no longer monitored.", d=domain),
              "success")
    return redirect(url_for("ui.domain", domain=domain), 303)


@bp.post("/domains/<domain>/run")
@requires_role(*DOMAIN_WRITERS)
def domain_run(domain: str) -> Response:
    """Audit now (with the monitored selectors and IPs), store it and show what changed."""
    kind = _kind(domain)
    view = monitoring.posture_view(db(), kind, domain.lower(), limit=1) or {}
    asset = view.get("monitored") or {}
    try:
        outcome = monitoring.audit_and_record(current_app, kind, domain, selectors=tuple(asset.get("selectors", ())),
                                              ips=tuple(asset.get("ips", ())), source="ui",
                                              asset_id=asset.get("id"))
    except monitoring.MonitoringError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("ui.domains"), 303)
    _log("monitor.run", f"{kind}:{outcome.audit.target}", result_id=outcome.result_id,
         changes=len(outcome.changes))
    flash(_("Audited now: %(n)s changes.", n=len(outcome.changes)), "success")
    return redirect(url_for("ui.domain", domain=outcome.audit.target), 303)


@bp.get("/domains/<domain>")
@requires_role(*DOMAIN_READERS)
def domain(domain: str) -> str:
    """Posture with each finding, the history of changes and the blocklist table."""
    kind = _kind(domain)
    try:
        target = monitoring.normalise_ip(domain) if kind == "ip" else monitoring.normalise_domain(domain)
    except monitoring.MonitoringError:
        abort(404)
    view = monitoring.posture_view(db(), kind, target)
    dmarc = _dmarc_panel(target) if kind == "domain" else None
    if view is None:
        return render_template("ui/domain.html", target=target, kind=kind, view=None, dmarc=dmarc)
    latest = view.get("latest") or {}
    return render_template("ui/domain.html", target=target, kind=kind, view=view, latest=latest,
                           groups=by_pack(latest.get("findings") or []), dmarc=dmarc)


def _dmarc_panel(domain: str) -> dict[str, Any]:
    """Sources, daily DMARC chart, TLS results and selectors from receivers' reports (issue 18)."""
    from datetime import date

    from auditor.dmarc.views import SORTS, domain_panel

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    sort = request.args.get("sort", "verdict")
    start, end = day("from"), day("to")
    legend = {"approved": _("DMARC pass"), "blocked": _("DMARC fail")}
    sort = sort if sort in SORTS else "verdict"
    try:
        return domain_panel(db(), domain, start=start, end=end, sort=sort, legend=legend)
    except ValueError:  # a reversed or impossible period: show the default one
        return domain_panel(db(), domain, sort=sort, legend=legend)


@bp.route("/domains/preflight", methods=["GET", "POST"])
@requires_role(*DOMAIN_READERS)
def preflight() -> str | tuple[str, int]:
    """Paste a zone before publishing it and see its audit (only the pasted zone answers)."""
    from checks.preflight import ZoneError, preflight_zone

    form = {k: request.form.get(k, "") for k in ("zone", "origin", "selectors", "ips")}
    if request.method == "GET":
        return render_template("ui/preflight.html", form=form, audit=None)
    if len(form["zone"].encode()) > MAX_ZONE_BYTES:
        flash(_("The zone is larger than %(n)s KiB.", n=MAX_ZONE_BYTES // 1024), "danger")
        return render_template("ui/preflight.html", form=form, audit=None), 413
    try:
        origin = monitoring.normalise_domain(form["origin"])
        audit = preflight_zone(form["zone"], origin, selectors=_split(form["selectors"]), ips=_split(form["ips"]),
                               timeout=2.0)
    except (ZoneError, monitoring.MonitoringError, ValueError) as exc:
        flash(str(exc), "danger")
        return render_template("ui/preflight.html", form=form, audit=None), 422
    doc = audit.to_dict()
    return render_template("ui/preflight.html", form=form, audit=doc,
                           groups=by_pack([f if isinstance(f, dict) else f.to_dict() for f in doc["findings"]]))
