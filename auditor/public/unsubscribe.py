"""Unsubscribe: ``GET /u/<token>`` confirms (Russian and English), ``POST`` records ``withdrawn``."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template, request

from auditor.campaigns.models import Campaign
from auditor.errors import ApiError
from auditor.gate.services import unsubscribe_signing_key
from auditor.gate.tokens import TokenError, UnsubscribeClaims, read_unsubscribe_token
from auditor.public import bp
from auditor.services import db, services

STOPPED = ("withdrawn", "erased")


def _claims(token: str) -> UnsubscribeClaims:
    try:
        return read_unsubscribe_token(unsubscribe_signing_key(current_app), token)
    except TokenError as exc:
        raise ApiError(403, "Invalid unsubscribe link", str(exc)) from None


def _status(claims: UnsubscribeClaims) -> str | None:
    from auditor.ledger.services import get_ledger

    state = get_ledger(current_app).current_states([claims.pseudonym], claims.channel,
                                                  claims.purpose).get(claims.pseudonym)
    return getattr(state, "status", None)


def _sender(claims: UnsubscribeClaims) -> dict[str, Any]:
    c = db().get(Campaign, claims.campaign_id)
    sender = (c.document.get("sender") or {}) if c else {}
    return {"name": sender.get("legal_name") or sender.get("from") or sender.get("domain") or "",
            "campaign": c.name if c else ""}


def _page(template: str, status: int, **ctx: Any) -> Response:
    resp = Response(render_template(template, **ctx), status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/u/<token>")
def unsubscribe_page(token: str) -> Response:
    """Ask the recipient to confirm; a GET never unsubscribes (link scanners follow GETs)."""
    try:
        claims = _claims(token)
    except ApiError as exc:
        if request.accept_mimetypes.accept_html:
            return _page("public/unsubscribe_invalid.html", 403, detail=exc.detail)
        raise
    return _page("public/unsubscribe.html", 200, token=token, claims=claims, sender=_sender(claims),
                 done=_status(claims) in STOPPED)


@bp.post("/u/<token>")
def unsubscribe_one_click(token: str) -> Response:
    """RFC 8058 one-click (and the page's button): append ``withdrawn``, answer after the commit."""
    claims = _claims(token)
    if request.form.get("List-Unsubscribe") != "One-Click":
        raise ApiError(400, "Bad Request",
                       "the body must be List-Unsubscribe=One-Click (RFC 8058 §3.2), form-encoded or multipart")
    from_page = request.form.get("source") == "page"
    if _status(claims) not in STOPPED:
        _withdraw(claims, "unsubscribe-page" if from_page else "one-click")
    if from_page:
        return _page("public/unsubscribed.html", 200, claims=claims, sender=_sender(claims))
    resp = Response("unsubscribed\n", status=200, mimetype="text/plain")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _withdraw(claims: UnsubscribeClaims, method: str) -> None:
    """Append ``withdrawn``; ``Ledger.append`` returns only once the event is committed."""
    from auditor.ledger.services import get_ledger
    from consent_ledger import EventIn, Evidence

    agent = "".join(ch for ch in request.user_agent.string if ch.isprintable())[:1024] or None
    evidence = Evidence(source_url=services().settings.public_url + "/u/", ip=request.remote_addr,
                        user_agent=agent)
    event = EventIn(type="withdrawn", pseudonym=claims.pseudonym, channel=claims.channel,
                    purpose=claims.purpose, method=method, evidence=evidence,
                    reason=f"unsubscribe link of campaign {claims.campaign_id}")
    get_ledger(current_app).append([event], actor=f"unsubscribe:campaign:{claims.campaign_id}")
