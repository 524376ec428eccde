"""JSON API of the send gate."""

from __future__ import annotations

from flask import Response, current_app
from pydantic import BaseModel, Field

from auditor.accounts.services import Principal
from auditor.api import Body, route
from auditor.campaigns.services import WorkflowError
from auditor.errors import ApiError
from auditor.gate.services import GateRefused, check
from auditor.services import db
from consent_ledger.bulk import collector_paused

MAX_GATE_RECIPIENTS = 100_000


class GateCheckIn(Body):
    """An approval token and the batch of recipients about to be sent to."""

    approval_token: str = Field(min_length=1, max_length=4096)
    recipients: list[str] = Field(max_length=MAX_GATE_RECIPIENTS)
    message_sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")


class GateHeaders(BaseModel):
    """Headers to add to this recipient's message (the sender's MTA DKIM-signs them)."""

    model_config = {"populate_by_name": True}
    list_unsubscribe: str = Field(alias="List-Unsubscribe")
    list_unsubscribe_post: str = Field(alias="List-Unsubscribe-Post")


class GateAllowed(BaseModel):
    """A recipient who may be sent to now."""

    recipient: str
    unsubscribe_url: str
    headers: GateHeaders


class GateSuppressed(BaseModel):
    """A recipient who may not, and the rule that says so."""

    recipient: str
    rule_id: str
    reason: str


class GateDecision(BaseModel):
    """The gate's answer."""

    campaign_id: int
    allowed: list[GateAllowed]
    suppressed: list[GateSuppressed]
    checked_at: str
    ledger_size: int


@route("/gate/check", methods=("POST",), scope="gate:check", body=GateCheckIn, response=GateDecision,
       tags=("gate",), errors={503: "the organisation policy file is unusable"},
       summary="Right before sending: who may receive the approved campaign now")
def gate_check(principal: Principal, body: GateCheckIn) -> Response:
    """Verify the approval token and re-check every recipient's consent."""
    try:
        answer = check(current_app, db(), body.approval_token, body.recipients, body.message_sha256)
    except WorkflowError as exc:  # the policy file became unusable
        raise ApiError(exc.status, exc.title, exc.detail) from None
    except GateRefused as exc:
        raise ApiError(403, "Approval token refused", "; ".join(exc.reasons),
                       errors=[{"loc": "approval_token", "msg": r} for r in exc.reasons]) from None
    with collector_paused(len(body.recipients)):  # 100,000 entries: see consent_ledger/bulk.py
        text = answer.to_json()
    return Response(text, mimetype="application/json")


def init_app(app) -> None:
    """The gate's answer must reflect the ledger now: never replay it from an Idempotency-Key."""
    from flask import request

    @app.before_request
    def _no_replay_at_gate() -> None:
        if request.endpoint == "api.gate_check":
            request.environ.pop("HTTP_IDEMPOTENCY_KEY", None)
