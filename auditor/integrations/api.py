"""JSON API of integrations: the list; the audience and suppression exports (streamed)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, stream_with_context

from auditor.accounts.services import Principal
from auditor.api import route
from auditor.errors import ApiError
from auditor.integrations import exports
from auditor.integrations import services as svc
from auditor.integrations.schemas import AudienceQuery, IntegrationList, SuppressionQuery
from auditor.services import db

MIMETYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}


@route("/integrations", scope="admin", response=IntegrationList, tags=("integrations",),
       summary="The configured ESP and CRM integrations (never their secrets)")
def list_integrations(principal: Principal) -> dict[str, Any]:
    """Every integration with its inbox counts."""
    s = db()
    counts = svc.inbox_counts(s)
    return {"integrations": [svc.describe(r, counts.get(r.id)) for r in svc.list_integrations(s)]}


@route("/campaigns/<int:campaign_id>/audience", scope="gate:check", query=AudienceQuery, tags=("integrations",),
       errors={409: "the campaign is not approved"}, produces=tuple(MIMETYPES.values()),
       summary="Who the gate allows now for an approved campaign, with unsubscribe URLs (CSV or JSON Lines)")
def campaign_audience(principal: Principal, campaign_id: int, query: AudienceQuery) -> Response:
    """Stream the allowed audience for upload to an ESP."""
    rows = exports.audience(current_app, campaign_id)
    try:
        first = next(rows, None)  # runs the checks (404/409) before the 200 is committed
    except LookupError:
        raise ApiError(404, "Not Found", f"no campaign {campaign_id}") from None
    except exports.NotApproved as exc:
        raise ApiError(409, "Conflict", str(exc)) from None

    def chained():
        if first is not None:
            yield first
        yield from rows

    body = stream_with_context(exports.audience_lines(chained(), query.format))
    resp = Response(body, mimetype=MIMETYPES[query.format])
    resp.headers["Content-Disposition"] = f'attachment; filename="campaign-{campaign_id}-audience.{query.format}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@route("/suppressions", scope="consent:read", query=SuppressionQuery, tags=("integrations",),
       produces=tuple(MIMETYPES.values()),
       summary="Everyone withdrawn, complained, hard-bounced or erased since a time, for ESP suppression lists")
def suppression_list(principal: Principal, query: SuppressionQuery) -> Response:
    """Stream the suppression list."""
    body = stream_with_context(exports.suppression_lines(exports.suppressions(current_app, query.since),
                                                         query.format))
    resp = Response(body, mimetype=MIMETYPES[query.format])
    resp.headers["Cache-Control"] = "no-store"
    return resp
