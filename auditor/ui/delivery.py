"""The /delivery page: integrations over a period, KPI charts against SLA lines, open breaches."""

from __future__ import annotations

from datetime import date

from flask import current_app, render_template, request
from flask_babel import gettext as _

from auditor.auth import requires_role
from auditor.campaigns.services import current_policy
from auditor.delivery.schemas import MAX_DAYS
from auditor.delivery.views import domains, overview
from auditor.periods import period
from auditor.services import db
from auditor.ui import bp
from auditor.ui.access import REVIEWERS
from reports.charts import delivery_charts


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/delivery")
@requires_role(*REVIEWERS)
def delivery() -> str:
    """Each integration's delivery KPIs over the period (default the last 30 days)."""
    try:
        start, end = period(_day("from"), _day("to"), max_days=MAX_DAYS)
    except ValueError:  # a hand-edited address: the last 30 days
        start, end = period(None, None)
    policy = current_policy(current_app)
    rows = overview(db(), start, end, policy)
    titles = {"delivery": _("Delivery rate"), "bounce": _("Bounce rate"), "complaint": _("Complaint rate")}
    for k in rows:
        k["charts"] = delivery_charts(k, titles, titled=False)  # under the page's own headings
    return render_template("ui/delivery.html", rows=rows, domains=domains(db(), start, end, policy),
                           start=start, end=end)


def campaign_delivery(campaign_id: int) -> dict | None:
    """The campaign page's delivery panel figures (None when they cannot be computed)."""
    from auditor.delivery.services import DeliveryError, campaign_kpis

    try:
        return campaign_kpis(db(), campaign_id, current_policy(current_app).withdrawal_grace_minutes)
    except DeliveryError:
        return None


@bp.app_context_processor
def _delivery_helpers() -> dict:
    return {"campaign_delivery": campaign_delivery}
