"""JSON API of campaigns: submit, read, review, revoke the approval."""

from __future__ import annotations

from typing import Any

from flask import current_app

from auditor.accounts.services import Principal
from auditor.api import parse_json_body, route
from auditor.campaigns import services as svc
from auditor.campaigns.audit import CampaignInvalid, MalformedMessage
from auditor.campaigns.schemas import (
    CampaignDocument,
    CampaignList,
    CampaignOut,
    CampaignQuery,
    ReviewIn,
    RevokeIn,
)
from auditor.errors import ApiError
from auditor.services import db, services


def _refused(exc: svc.WorkflowError) -> ApiError:
    return ApiError(exc.status, exc.title, exc.detail)


def _view(campaign_id: int, principal: Principal | None) -> dict[str, Any]:
    # A fresh session: the request's own began before the write committed (SQLite snapshot).
    with services().sessions() as s:
        return svc.campaign_view(current_app, svc.get_campaign(s, campaign_id), principal)


@route("/campaigns", methods=("POST",), scope="campaign:submit", body=CampaignDocument,
       errors={409: "the campaign's state does not allow this", 503: "the organisation policy file is unusable"},
       response=CampaignOut, status=201, tags=("campaigns",),
       summary="Submit a campaign: message checks, law packs, consent coverage and domain posture", localised=True)
def submit_campaign(principal: Principal, body: CampaignDocument) -> tuple[dict[str, Any], int]:
    """Audit and store a campaign; 201 with its status, findings and consent coverage."""
    message_json = parse_json_body()["message"]
    try:
        c = svc.submit_campaign(current_app, principal, body, message_json)
    except MalformedMessage as exc:
        raise ApiError(422, "Malformed message", "the message is not valid RFC 5322 / MIME",
                       errors=[{"loc": "message", "msg": p} for p in exc.problems]) from None
    except CampaignInvalid as exc:
        raise ApiError(422, "Invalid request", "the campaign cannot be audited", errors=exc.errors) from None
    except svc.WorkflowError as exc:
        raise _refused(exc) from None
    resp = _view(c.id, principal)
    return resp, 201


@route("/campaigns", scope="campaign:read", query=CampaignQuery, response=CampaignList, tags=("campaigns",),
       summary="Campaigns, newest first; ?status=needs_review is the review queue")
def list_campaigns(principal: Principal, query: CampaignQuery) -> dict[str, Any]:
    """The campaign list."""
    rows = svc.list_campaigns(db(), query.status, query.limit)
    return {"campaigns": [{"id": c.id, "name": c.name, "status": c.status, "submitted_by": c.submitted_by,
                           "created_at": svc.aware(c.created_at).isoformat(), "allowed": c.allowed_count,
                           "suppressed": c.suppressed_count} for c in rows]}


@route("/campaigns/<int:campaign_id>", scope="campaign:read", response=CampaignOut, tags=("campaigns",),
       summary="A campaign's status, findings, coverage, reviews and (for the submitter) approval token", localised=True)
def get_campaign(principal: Principal, campaign_id: int) -> dict[str, Any]:
    """The campaign."""
    try:
        return _view(campaign_id, principal)
    except svc.WorkflowError as exc:
        raise _refused(exc) from None


@route("/campaigns/<int:campaign_id>/reviews", methods=("POST",), scope="review:write", body=ReviewIn,
       errors={409: "the campaign's state does not allow this", 503: "the organisation policy file is unusable"},
       response=CampaignOut, status=201, tags=("campaigns",),
       summary="Approve or reject a campaign (legal, security, admin; never the submitter)", localised=True)
def review_campaign(principal: Principal, campaign_id: int, body: ReviewIn) -> tuple[dict[str, Any], int]:
    """Record a review decision."""
    try:
        svc.decide(current_app, principal, campaign_id, body.decision, body.comment)
        return _view(campaign_id, principal), 201
    except svc.WorkflowError as exc:
        raise _refused(exc) from None


@route("/campaigns/<int:campaign_id>/approval/revoke", methods=("POST",), scope="review:write",
       errors={409: "the campaign's state does not allow this", 503: "the organisation policy file is unusable"},
       body=RevokeIn, tags=("campaigns",),
       summary="Revoke the campaign's approval token: the gate refuses it from now on")
def revoke_approval(principal: Principal, campaign_id: int, body: RevokeIn) -> dict[str, Any]:
    """Revoke live approval tokens."""
    try:
        revoked = svc.revoke_approval(current_app, principal, campaign_id, body.reason)
    except svc.WorkflowError as exc:
        raise _refused(exc) from None
    return {"campaign_id": campaign_id, "revoked": revoked}
