"""The dashboard (what needs me now) and the audit log."""

from __future__ import annotations

from flask import render_template, request

from auditor.auth import current_principal, requires_role
from auditor.services import db
from auditor.ui import bp, queries
from auditor.ui.access import EVERYONE, REVIEWERS, can


@bp.get("/")
@requires_role(*EVERYONE)
def dashboard() -> str:
    """Per role: campaigns waiting for me, my submissions, posture problems."""
    principal = current_principal()
    s = db()
    ctx: dict = {}
    if can(principal, "campaigns"):
        ctx["counts"] = queries.campaign_counts(s)
        ctx["waiting"] = queries.awaiting(s, principal.user_id)
    else:
        ctx["mine"] = queries.submitted_by(s, principal.user_id)
    if can(principal, "domains"):
        from auditor.ui import domains

        ctx["domain_alerts"] = domains.alerts()
    return render_template("ui/dashboard.html", **ctx)


@bp.get("/audit-log")
@requires_role(*REVIEWERS)
def audit_log() -> str:
    """Decisions and administrative actions, newest first."""
    q = request.args.get("q", "").strip()[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    entries, more = queries.audit_page(db(), q=q, page=page)
    return render_template("ui/audit_log.html", entries=entries, more=more, page=page, q=q,
                           summary=queries.summary)
