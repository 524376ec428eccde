"""JSON API of delivery KPIs: per campaign, per integration and period with SLA findings, per sending domain."""

from __future__ import annotations

from typing import Any

from flask import current_app

from auditor.accounts.services import Principal
from auditor.api import route
from auditor.campaigns.services import current_policy
from auditor.delivery import services as svc
from auditor.delivery.schemas import CampaignDelivery, DomainKpis, IntegrationKpis, PeriodQuery
from auditor.errors import ApiError
from auditor.services import db


@route("/campaigns/<int:campaign_id>/delivery", scope="campaign:read", response=CampaignDelivery,
       tags=("delivery",), summary="What the providers reported of a campaign: counts, rates, delivery time, "
       "mail delivered after a withdrawal")
def campaign_delivery(principal: Principal, campaign_id: int) -> dict[str, Any]:
    """The campaign's delivery KPIs."""
    grace = current_policy(current_app).withdrawal_grace_minutes
    try:
        return svc.campaign_kpis(db(), campaign_id, grace)
    except svc.DeliveryError as exc:
        raise ApiError(404, "Not Found", str(exc)) from None


@route("/integrations/<name>/kpis", scope="campaign:read", query=PeriodQuery, response=IntegrationKpis,
       tags=("delivery",), summary="An integration's delivery KPIs per day over a period, with SLA findings")
def integration_kpis(principal: Principal, name: str, query: PeriodQuery) -> dict[str, Any]:
    """KPIs and SLA breaches of one contractor."""
    try:
        return svc.integration_kpis(db(), name, query.start, query.end, current_policy(current_app))
    except svc.DeliveryError as exc:
        raise ApiError(404, "Not Found", str(exc)) from None


@route("/domains/<domain>/kpis", scope="campaign:read", query=PeriodQuery, response=DomainKpis,
       tags=("delivery",), summary="A sending domain's delivery KPIs per day over a period (its campaigns' events, "
       "every integration)")
def domain_kpis(principal: Principal, domain: str, query: PeriodQuery) -> dict[str, Any]:
    """KPIs of the mail sent from one domain."""
    try:
        return svc.domain_kpis(db(), domain, query.start, query.end, current_policy(current_app))
    except svc.DeliveryError as exc:
        raise ApiError(404, "Not Found", str(exc)) from None
