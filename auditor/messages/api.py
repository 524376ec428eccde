"""``POST /api/v1/messages/check``: raw RFC 5322 / MIME in, findings out."""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import BaseModel, Field

from auditor.api import Body, route
from auditor.api.schemas import FindingOut
from auditor.errors import ApiError
from auditor.services import services


class MessageCheckQuery(Body):
    """How to judge the message."""

    envelope_domain: str | None = Field(None, max_length=253, description="MAIL FROM domain, for SPF alignment")
    marketing: bool = True
    bulk: bool = True
    blocklists: bool = True


class MessageCheckOut(BaseModel):
    """The findings and the facts read from the message."""

    verdict: str
    findings: list[FindingOut]
    from_domain: str | None
    aligned: bool
    one_click: bool
    dkim: list[dict[str, Any]]
    links: list[dict[str, Any]]


@route("/messages/check", methods=("POST",), scope="message:check", query=MessageCheckQuery,
       response=MessageCheckOut, raw_body="message/rfc822", tags=("messages",),
       summary="Check one message (raw RFC 5322 / MIME): headers, DKIM, alignment, unsubscribe, links", localised=True)
def check_message_now(principal, query: MessageCheckQuery) -> dict[str, Any]:
    """Run every RULES.md §3 check of the posted message."""
    from checks.blocklists import parse_blocklists
    from checks.findings import worst
    from checks.message import check_message
    from checks.message.parse import MessageInputError
    from checks.resolver import make_resolver

    svc = services()
    if request.mimetype not in ("message/rfc822", "text/plain", "application/octet-stream"):
        raise ApiError(415, "Unsupported Media Type", "post the raw message as message/rfc822")
    raw = request.get_data(cache=False)
    resolver = make_resolver(svc.nameservers, svc.settings.dns_timeout)
    lists = [b for b in parse_blocklists(svc.settings.blocklists) if b.kind == "domain"] if query.blocklists else None
    try:
        report = check_message(raw, resolver=resolver, marketing=query.marketing, bulk=query.bulk,
                               envelope_domain=query.envelope_domain, blocklists=lists)
    except MessageInputError as exc:
        raise ApiError(422, "Not a message", str(exc)) from None
    data = report.to_dict()
    return {"verdict": {"block": "blocked", "warn": "needs_review"}.get(worst(report.findings) or "", "ok"),
            "findings": data["findings"], "from_domain": report.from_domain, "aligned": report.aligned,
            "one_click": report.one_click, "dkim": data["dkim"], "links": data["links"]}
