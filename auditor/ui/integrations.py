"""Administration of integrations: list with inbox counts, add (the webhook URL shown once), remove."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from auditor.accounts.services import record
from auditor.auth import current_principal, requires_role
from auditor.integrations import services as svc
from auditor.integrations.models import InboxEntry, Integration
from auditor.services import db
from auditor.ui import bp
from auditor.ui.access import ADMINS


def _page(status: int = 200, created: tuple[Integration, str] | None = None) -> Response:
    s = db()
    counts = svc.inbox_counts(s)
    rows = [(i, counts.get(i.id, {})) for i in svc.list_integrations(s)]
    recent = list(s.scalars(select(InboxEntry).order_by(InboxEntry.id.desc()).limit(20)))
    names = {i.id: i.name for i, _c in rows}
    html = render_template("ui/admin_integrations.html", rows=rows, recent=recent, names=names,
                           providers=svc.PROVIDERS, created=created)
    resp = make_response(html, status)
    if created:
        resp.headers["Cache-Control"] = "no-store"  # the URL holds the secret token
    return resp


@bp.route("/admin/integrations", methods=["GET", "POST"])
@requires_role(*ADMINS)
def admin_integrations() -> Response:
    """List integrations; add one (its webhook URL is on this answer only)."""
    if request.method == "GET":
        return _page()
    s = db()
    f = request.form
    try:
        row, token = svc.create_integration(
            s, name=f.get("name", ""), provider=f.get("provider", ""), actor=current_principal().actor,
            channel=f.get("channel", "email").strip() or "email", purpose=f.get("purpose", "marketing").strip()
            or "marketing", controller=f.get("controller") or None, secret=f.get("secret", "").strip() or None)
    except svc.IntegrationError as exc:
        s.rollback()
        flash(str(exc), "danger")
        return _page(400)
    record(s, current_principal().actor, "integration.create", f"integration:{row.id}", name=row.name,
           provider=row.provider)
    s.commit()
    return _page(201, created=(row, svc.webhook_url(current_app, row.provider, token)))


@bp.post("/admin/integrations/<int:integration_id>/remove")
@requires_role(*ADMINS)
def admin_integration_remove(integration_id: int) -> Response:
    """Delete an integration: its URL stops working."""
    s = db()
    row = s.get(Integration, integration_id)
    if row is None:
        flash(_("No such integration."), "danger")
        return redirect(url_for("ui.admin_integrations"))
    name = row.name
    svc.remove_integration(s, name)
    record(s, current_principal().actor, "integration.remove", f"integration:{integration_id}", name=name)
    s.commit()
    flash(_("Integration %(name)s removed.", name=name), "success")
    return redirect(url_for("ui.admin_integrations"))
