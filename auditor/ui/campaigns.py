"""The review queue and the campaign page (verdict, findings, coverage, posture, preview, decide)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auditor.auth import current_principal, requires_role
from auditor.campaigns import services as campaigns
from auditor.campaigns.models import STATUSES
from auditor.services import db
from auditor.ui import bp, queries
from auditor.ui.access import REVIEWERS
from auditor.ui.findings import by_pack, title_of, worst
from auditor.ui.preview import preview_of


@bp.get("/campaigns")
@requires_role(*REVIEWERS)
def campaigns_queue() -> str:
    """Campaigns by status, with the count of each status."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        abort(404)
    rows = queries.campaigns_in(db(), status)
    return render_template("ui/campaigns.html", rows=rows, status=status, counts=queries.campaign_counts(db()),
                           worst=worst)


def _posture(domain: str | None) -> dict | None:
    """The sending domain's latest stored audit, when monitoring is installed."""
    if not domain:
        return None
    try:
        from auditor.monitoring.services import latest_posture
    except ImportError:
        return None
    audit, checked_at = latest_posture(db(), domain)
    if audit is None:
        return {"domain": domain, "audit": None, "checked_at": None}
    return {"domain": domain, "findings": [f.to_dict() for f in audit.findings], "checked_at": checked_at,
            "blocklists": audit.blocklists, "audit": audit}


@bp.get("/campaigns/<int:campaign_id>")
@requires_role(*REVIEWERS)
def campaign(campaign_id: int) -> str:
    """Everything a reviewer needs to decide one campaign."""
    principal = current_principal()
    try:
        c = campaigns.get_campaign(db(), campaign_id)
    except campaigns.CampaignNotFound:
        abort(404)
    doc = c.document or {}
    sender = doc.get("sender") or {}
    mine = c.submitter_id == principal.user_id
    approved_by_me = any(r.reviewer_id == principal.user_id and r.decision == "approve" for r in c.reviews)
    view = campaigns.campaign_view(current_app, c, principal)
    return render_template(
        "ui/campaign.html", c=c, doc=doc, sender=sender, groups=by_pack(c.findings or []),
        reasons=[(rid, title_of(rid), n) for rid, n in sorted((c.reasons or {}).items(), key=lambda x: -x[1])],
        warnings=[(rid, title_of(rid), n) for rid, n in sorted((c.warnings or {}).items(), key=lambda x: -x[1])],
        posture=_posture(sender.get("domain")), preview=preview_of(doc.get("message") or {}),
        approval=view.get("approval"), may_approve=not mine and not approved_by_me and c.status == "needs_review",
        may_reject=not mine and c.status in ("needs_review", "blocked", "approved"), mine=mine,
        by_pack=by_pack)


@bp.post("/campaigns/<int:campaign_id>/review")
@requires_role(*REVIEWERS)
def campaign_review(campaign_id: int) -> Response:
    """Approve or reject (a rejection needs a comment)."""
    decision = request.form.get("decision", "")
    if decision not in ("approve", "reject"):
        abort(400)
    try:
        c = campaigns.decide(current_app, current_principal(), campaign_id, decision,
                             request.form.get("comment", ""))
    except campaigns.CampaignNotFound:
        abort(404)
    except campaigns.InvalidDecision:
        flash(_("A rejection needs a comment saying what to fix."), "danger")
        return redirect(url_for("ui.campaign", campaign_id=campaign_id) + "#decide", 303)
    except campaigns.WorkflowError as exc:
        flash(exc.detail, "danger")
        return redirect(url_for("ui.campaign", campaign_id=campaign_id) + "#decide", 303)
    if decision == "reject":
        flash(_("Campaign #%(id)s rejected.", id=campaign_id), "success")
    elif c.status == "approved":
        flash(_("Campaign #%(id)s approved; the sender can fetch its approval token.", id=campaign_id), "success")
    else:
        flash(_("Your approval is recorded; another reviewer must sign off too."), "success")
    return redirect(url_for("ui.campaign", campaign_id=campaign_id), 303)
