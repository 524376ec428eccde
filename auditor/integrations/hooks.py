"""Webhook receivers: ``/hooks/<provider>/<token>``, durable in the inbox before the 2xx."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, json, request

from auditor.errors import ApiError
from auditor.integrations import services as svc
from auditor.ratelimit import hook_limit_refusal
from auditor.services import services
from checks.providers import (
    WEBHOOK_PROVIDERS,
    PayloadError,
    SignatureError,
    count_events,
    parse_payload,
)

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # a SendGrid batch is at most a few MB; HOOK_MAX_BYTES overrides


def _cap() -> int:
    return int(current_app.config.get("HOOK_MAX_BYTES", DEFAULT_MAX_BYTES))


def _body() -> bytes:
    """The raw body, refusing (413) what is over the cap before reading it all."""
    cap = _cap()
    if request.content_length is not None and request.content_length > cap:
        raise ApiError(413, "Payload Too Large", f"a webhook body is at most {cap} bytes")
    body = request.stream.read(cap + 1)
    if len(body) > cap:
        raise ApiError(413, "Payload Too Large", f"a webhook body is at most {cap} bytes")
    if request.content_length is not None and len(body) != request.content_length:
        raise ApiError(400, "Bad Request", "the body is shorter than its Content-Length (truncated)")
    return body


def _verify(integration, body: bytes) -> None:
    """The provider's own authentication, on top of the URL token."""
    try:
        if integration.provider == "sendgrid" and integration.secret:
            from checks.providers.sendgrid import (
                SIGNATURE_HEADER,
                TIMESTAMP_HEADER,
                verify_signature,
            )

            verify_signature(integration.secret, request.headers.get(SIGNATURE_HEADER),
                             request.headers.get(TIMESTAMP_HEADER), body)
        elif integration.provider == "unisender":
            from checks.providers.unisender import verify_auth

            verify_auth(integration.secret or "", body)
    except SignatureError as exc:
        raise ApiError(403, "Forbidden", f"signature refused: {exc}") from None


def request_target() -> svc.HookTarget | None:
    """The integration of the current request's URL token (looked up once per request; the
    request limits ask too: a known token is limited per integration, an unknown one per address)."""
    if "hook_target" not in g:
        args = request.view_args or {}
        provider, token = args.get("provider"), args.get("token")
        g.hook_target = (svc.hook_target(current_app, provider, token)
                         if request.blueprint == bp.name and provider in WEBHOOK_PROVIDERS and token else None)
    return g.hook_target


@bp.route("/<provider>/<token>", methods=("GET", "HEAD", "POST"))
def receive(provider: str, token: str) -> Response:
    """Accept one provider request: token, size, signature, format; inbox; then process."""
    if provider not in WEBHOOK_PROVIDERS:
        raise ApiError(404, "Not Found", f"no webhook receiver for {provider!r}")
    integration = request_target()
    if integration is None:
        raise ApiError(403, "Forbidden", "unknown webhook URL token for this provider")
    refused = hook_limit_refusal(integration)  # per integration, in this process: no round trip
    if refused is not None:
        return refused
    if request.method != "POST":
        if provider == "mailchimp":  # Mailchimp GETs the URL to validate it before saving the webhook
            return Response("ok\n", mimetype="text/plain")
        raise ApiError(405, "Method Not Allowed", "the provider POSTs its events here")
    body = _body()
    _verify(integration, body)
    inline = not services().settings.broker_url
    try:  # with a worker, the body is only checked here: the worker parses it from the inbox
        events = parse_payload(provider, body) if inline else None
        count = len(events) if events is not None else count_events(provider, body)
    except PayloadError as exc:
        raise ApiError(400, "Bad Request", f"not a {provider} webhook payload: {exc}") from None
    accepted = svc.accept(current_app, integration.id, body, count, claim=inline,
                          token_sha256=integration.token_sha256)
    if accepted is None:  # removed since it was cached (by another process)
        raise ApiError(403, "Forbidden", "unknown webhook URL token for this provider")
    answer = {"inbox_id": accepted.inbox_id, "events": count, "duplicate": accepted.duplicate}
    if not accepted.duplicate:
        answer.update(_dispatch(current_app, accepted.inbox_id, events, integration if inline else None))
    elif inline:  # the provider's retry of an entry whose processing failed: try again now
        answer["state"] = svc.process_entry(current_app, accepted.inbox_id, events).state
    return Response(json.dumps(answer), status=200, mimetype="application/json")


def _dispatch(app: Flask, inbox_id: int, events: list, held: object) -> dict:
    """Process now (no broker; the entry was accepted claimed) or hand to a worker; durable either way."""
    if held is not None:
        return svc.process_entry(app, inbox_id, events, held_by_caller=held).to_dict()
    from auditor.integrations.tasks import DRAIN
    from auditor.jobs import request_job

    # A worker drains every pending entry; this asks for a drain without waiting for the broker
    # (one send for a burst of requests). Broker down: the next drain or the sweep picks it up.
    request_job(DRAIN, app=app)
    return {"state": "received"}


def init_app(app: Flask) -> None:
    """Register the receivers; their authentication is the URL token and the provider's signature."""
    app.register_blueprint(bp)
    app.extensions["auditor_hook_target"] = request_target
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
