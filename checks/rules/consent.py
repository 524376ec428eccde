"""RULES.md §4: the consent of each recipient, for the campaign's channel and purpose; and what
each legal basis allows (the jurisdictions' packs judge it with these helpers)."""

from __future__ import annotations

from collections.abc import Iterator

from checks.catalogue import rule
from checks.i18n import msg
from checks.rules.base import LIVE, CampaignContext, Hit, Pack, RecipientContext, expired
from checks.rules.facts import CampaignFacts

PACK = Pack("consent", applies_to=lambda facts: True)

# Legal bases (the ledger's ``legal_basis`` token) that are the person's own consent. A grant
# recorded without a basis is a consent event, so it counts as consent.
CONSENT_BASES = frozenset({None, "consent", "express_consent", "explicit_consent", "prior_consent"})
# The existing-customer exception (ePrivacy art. 13(2), PECR reg. 22(3)): by basis or, as the
# first wave recorded it, by method.
SOFT_OPT_IN_BASES = frozenset({"soft_opt_in", "existing_customer"})
SOFT_OPT_IN_METHODS = frozenset({"soft-opt-in", "soft_opt_in", "existing-customer", "existing_customer"})


def basis(state: object) -> str | None:
    """The live grant's legal basis (states from before the state machine have none)."""
    value = getattr(state, "legal_basis", None)
    return value.lower() if isinstance(value, str) else None


def soft_opt_in(state: object) -> bool:
    """Recorded as the existing-customer exception rather than consent."""
    return basis(state) in SOFT_OPT_IN_BASES or (getattr(state, "method", None) or "").lower() in SOFT_OPT_IN_METHODS


@PACK.recipient("CONSENT-NONE")
def no_consent(ctx: RecipientContext) -> Hit | None:
    """No event at all for this channel and purpose."""
    if ctx.state is None:
        return Hit(msg("no consent recorded for {channel} / {purpose}", channel=ctx.facts.channel,
                       purpose=ctx.facts.purpose))
    return None


@PACK.recipient("CONSENT-WITHDRAWN")
def withdrawn(ctx: RecipientContext) -> Hit | None:
    """The latest event is a withdrawal (unsubscribe, objection)."""
    s = ctx.state
    if s is not None and s.status == "withdrawn":
        return Hit(msg("withdrawn at {when}", when=_when(s.updated_at)), {"withdrawn_at": _when(s.updated_at)})
    return None


@PACK.recipient("CONSENT-ERASED")
def erased(ctx: RecipientContext) -> Hit | None:
    """The subject was erased (crypto-shredded)."""
    if ctx.state is not None and ctx.state.status == "erased":
        return Hit(msg("the subject was erased; no consent remains"))
    return None


@PACK.recipient("CONSENT-EXPIRED")
def expired_consent(ctx: RecipientContext) -> Hit | None:
    """A live grant whose expiry has passed (CASL implied consent)."""
    s = ctx.state
    if s is not None and s.status in LIVE and expired(s, ctx.now):
        return Hit(msg("expired at {when}", when=_when(s.expires_at)), {"expires_at": _when(s.expires_at)})
    return None


@PACK.recipient("CONSENT-UNCONFIRMED")
def unconfirmed(ctx: RecipientContext) -> Hit | None:
    """Policy asks for double opt-in and the grant was never confirmed."""
    if ctx.policy.require_double_opt_in and ctx.live and not ctx.state.confirmed:
        return Hit(msg("granted but not confirmed; the policy requires double opt-in"))
    return None


@PACK.recipient("CONSENT-EVIDENCE-WEAK")
def evidence_weak(ctx: RecipientContext) -> Hit | None:
    """The grant lacks source, claimed time, notice version or notice text hash."""
    if ctx.live and not ctx.state.evidence_complete:
        return Hit(msg("the consent event lacks its source (URL or IP), time, notice version or notice text hash"))
    return None


def _ru_advertising(facts: CampaignFacts) -> bool:
    return "RU" in facts.jurisdictions and facts.advertising


@PACK.recipient("RU-38FZ-18-LEGAL-BASIS", _ru_advertising)
def ru_legal_basis(ctx: RecipientContext) -> Hit | None:
    """38-FZ art. 18 p. 1 admits only the subscriber's prior consent for advertising."""
    b = basis(ctx.state)
    if ctx.live and b not in CONSENT_BASES:
        return Hit(msg("legal basis {basis} is not the subscriber's prior consent, which 38-FZ art. 18 p. 1 "
                       "requires for advertising by {channel}", basis=b, channel=ctx.facts.channel),
                   {"legal_basis": b})
    return None


@PACK.campaign("POLICY-SEVERITY-CHANGED")
def policy_changes(ctx: CampaignContext) -> Iterator[Hit]:
    """Every severity the organisation policy changes, so the campaign shows it with its verdict."""
    for rule_id, (severity, reason) in sorted(ctx.policy.severities.items()):
        default = rule(rule_id).severity
        if severity != default:
            yield Hit(msg("the policy changes {rule_id} from {before} to {after}: {reason}", rule_id=rule_id,
                          before=default, after=severity, reason=reason),
                      {"rule_id": rule_id, "from": default, "to": severity, "reason": reason})


def _when(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
