"""The send gate: verify an approval token, then re-check every recipient's consent now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from auditor.campaigns.coverage import evaluate_recipients
from auditor.campaigns.models import ApprovalToken, Campaign
from auditor.gate.tokens import (
    TokenError,
    UnsubscribeSigner,
    unsubscribe_key,
    verify_approval_token,
)
from auditor.services import services
from consent_ledger.bulk import collector_paused

ONE_CLICK = "List-Unsubscribe=One-Click"


class GateRefused(Exception):
    """The approval token cannot be used; ``reasons`` say why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def authorise(app: Flask, session: Session, token: str, message_sha256: str | None,
              now: datetime) -> Campaign:
    """The approved campaign behind a token: signature, expiry, revocation and content checked."""
    try:
        claims = verify_approval_token(services(app).signing_key.public_key(), token, now=now)
    except TokenError as exc:
        raise GateRefused(exc.reasons) from None
    reasons = []
    row = session.get(ApprovalToken, claims.token_id)
    campaign = session.get(Campaign, claims.campaign_id)
    if row is None or campaign is None or row.campaign_id != campaign.id:
        raise GateRefused(["the approval token was not issued by this instance"])
    if row.revoked_at is not None:
        reasons.append(f"the approval token was revoked at {_aware(row.revoked_at).isoformat()}"
                       + (f": {row.revoke_reason}" if row.revoke_reason else ""))
    if campaign.status != "approved":
        reasons.append(f"the campaign is {campaign.status}, not approved")
    if row.content_sha256 != claims.content_sha256 or campaign.content_sha256 != claims.content_sha256:
        reasons.append("the approved content differs from the token's content hash")
    if message_sha256 is not None and message_sha256.lower() != claims.content_sha256:
        reasons.append("message_sha256 differs from the approved content: the message changed after approval")
    if reasons:
        raise GateRefused(reasons)
    return campaign


def _facts(app: Flask, campaign: Campaign) -> Any:
    """The rule engine's facts of an approved campaign (cached: approved content never changes)."""
    from checks.rules import CampaignFacts

    cache = services(app).extras.setdefault("gate_facts", {})
    key = (campaign.id, campaign.content_sha256)
    facts = cache.get(key)
    if facts is None:
        if len(cache) > 256:
            cache.clear()
        facts = cache[key] = CampaignFacts.model_validate({**campaign.document, "recipients": []})
    return facts


@dataclass
class GateAnswer:
    """Who may receive the approved campaign now, and who may not."""

    campaign_id: int
    allowed: list[tuple[str, str]]  # (recipient, unsubscribe URL)
    suppressed: list[tuple[str, str, str]]  # (recipient, rule id, reason)
    checked_at: datetime
    ledger_size: int
    email: bool = True
    plain_urls: bool = False  # every URL is known to need no JSON escaping (written as is)

    def headers(self, url: str) -> dict[str, str]:
        """The headers for one recipient's copy (RFC 8058 §3.1: an https URI plus the POST hint)."""
        return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK} if self.email else {}

    def to_dict(self) -> dict[str, Any]:
        """The INTERFACES.md answer as plain data."""
        return {"campaign_id": self.campaign_id,
                "allowed": [{"recipient": r, "unsubscribe_url": u, "headers": self.headers(u)}
                            for r, u in self.allowed],
                "suppressed": [{"recipient": r, "rule_id": rule, "reason": why} for r, rule, why in self.suppressed],
                "checked_at": self.checked_at.isoformat(), "ledger_size": self.ledger_size}

    def to_json(self) -> str:
        """The same as JSON text, written directly: at 100,000 recipients a generic encoder over
        a dict per recipient costs a fifth of the whole call."""
        enc = encode_basestring_ascii
        if self.email and self.plain_urls:
            allowed = [f'{{"recipient":{enc(r)},"unsubscribe_url":"{u}","headers":'
                       f'{{"List-Unsubscribe":"<{u}>","List-Unsubscribe-Post":"{ONE_CLICK}"}}}}'
                       for r, u in self.allowed]
        elif self.email:
            allowed = [f'{{"recipient":{enc(r)},"unsubscribe_url":{enc(u)},"headers":'
                       f'{{"List-Unsubscribe":{enc("<" + u + ">")},"List-Unsubscribe-Post":"{ONE_CLICK}"}}}}'
                       for r, u in self.allowed]
        else:
            allowed = [f'{{"recipient":{enc(r)},"unsubscribe_url":{enc(u)},"headers":{{}}}}' for r, u in self.allowed]
        suppressed = [f'{{"recipient":{enc(r)},"rule_id":{enc(rule)},"reason":{enc(why)}}}'
                      for r, rule, why in self.suppressed]
        return (f'{{"campaign_id":{int(self.campaign_id)},"allowed":[{",".join(allowed)}],'
                f'"suppressed":[{",".join(suppressed)}],"checked_at":{enc(self.checked_at.isoformat())},'
                f'"ledger_size":{int(self.ledger_size)}}}')


HARD_BOUNCE_RULE = "DELIVERY-HARD-BOUNCE"


def _hard_bounced(app: Flask, verdicts: list, channel: str, conn: Any = None) -> dict[str, str]:
    """Of the recipients consent allows, those that hard-bounced: one batched lookup (on ``conn``
    if given)."""
    from auditor.integrations.services import hard_bounced

    wanted = [p for _raw, p, outcome in verdicts if p and not outcome.blocking]
    if conn is not None:
        return hard_bounced(conn, wanted, channel)
    with services(app).engine.connect() as own:
        return hard_bounced(own, wanted, channel)


def unsubscribe_signing_key(app: Flask) -> bytes:
    """The app's HMAC key for unsubscribe tokens (derived once)."""
    svc = services(app)
    key = svc.extras.get("unsubscribe_key")
    if key is None:
        key = svc.extras["unsubscribe_key"] = unsubscribe_key(svc.secret_key)
    return key


def check(app: Flask, session: Session, token: str, recipients: list[str],
          message_sha256: str | None = None) -> GateAnswer:
    """Who of ``recipients`` may receive the approved campaign now, with unsubscribe URLs."""
    from auditor.campaigns.services import current_policy
    from auditor.ledger.services import get_ledger

    now = datetime.now(UTC)
    campaign = authorise(app, session, token, message_sha256, now)
    ledger = get_ledger(app)
    # Every read on the request's own connection (the token lookup checked it out): a checkout
    # costs a ping and a rollback, round trips that dominated a 1,000-recipient call's tail.
    conn = session.connection()
    size = ledger.size(conn)  # the states read below include at least these events
    with collector_paused(len(recipients)):
        verdicts = evaluate_recipients(ledger, recipients, facts=_facts(app, campaign),
                                       policy=current_policy(app), now=now, conn=conn)
        sign = UnsubscribeSigner(unsubscribe_signing_key(app), campaign.id, campaign.channel,
                                 campaign.purpose).token
        base = services(app).settings.public_url + "/u/"
        allowed: list[tuple[str, str]] = []
        suppressed: list[tuple[str, str, str]] = []
        bounced = _hard_bounced(app, verdicts, campaign.channel, conn)
        for raw, p, outcome in verdicts:
            if outcome.blocking:
                suppressed.append((raw, outcome.blocking[0], outcome.reason))
            elif bounced and p in bounced:
                suppressed.append((raw, HARD_BOUNCE_RULE, bounced[p]))
            else:
                allowed.append((raw, base + sign(p)))
    # Tokens are base64url; if the configured base needs no escaping either, no URL does.
    plain = encode_basestring_ascii(base) == f'"{base}"'
    return GateAnswer(campaign.id, allowed, suppressed, now, size, campaign.channel == "email", plain)
