"""RULES.md §4: the consent of each recipient, for the campaign's channel and purpose."""

from __future__ import annotations

from checks.rules.base import LIVE, Hit, Pack, RecipientContext, expired

PACK = Pack("consent", applies_to=lambda facts: True)


@PACK.recipient("CONSENT-NONE")
def no_consent(ctx: RecipientContext) -> Hit | None:
    """No event at all for this channel and purpose."""
    if ctx.state is None:
        return Hit(f"no consent recorded for {ctx.facts.channel} / {ctx.facts.purpose}")
    return None


@PACK.recipient("CONSENT-WITHDRAWN")
def withdrawn(ctx: RecipientContext) -> Hit | None:
    """The latest event is a withdrawal (unsubscribe, objection)."""
    s = ctx.state
    if s is not None and s.status == "withdrawn":
        return Hit(f"withdrawn at {_when(s.updated_at)}", {"withdrawn_at": _when(s.updated_at)})
    return None


@PACK.recipient("CONSENT-ERASED")
def erased(ctx: RecipientContext) -> Hit | None:
    """The subject was erased (crypto-shredded)."""
    if ctx.state is not None and ctx.state.status == "erased":
        return Hit("the subject was erased; no consent remains")
    return None


@PACK.recipient("CONSENT-EXPIRED")
def expired_consent(ctx: RecipientContext) -> Hit | None:
    """A live grant whose expiry has passed (CASL implied consent)."""
    s = ctx.state
    if s is not None and s.status in LIVE and expired(s, ctx.now):
        return Hit(f"expired at {_when(s.expires_at)}", {"expires_at": _when(s.expires_at)})
    return None


@PACK.recipient("CONSENT-UNCONFIRMED")
def unconfirmed(ctx: RecipientContext) -> Hit | None:
    """Policy asks for double opt-in and the grant was never confirmed."""
    if ctx.policy.require_double_opt_in and ctx.live and not ctx.state.confirmed:
        return Hit("granted but not confirmed; the policy requires double opt-in")
    return None


@PACK.recipient("CONSENT-EVIDENCE-WEAK")
def evidence_weak(ctx: RecipientContext) -> Hit | None:
    """The grant lacks source, claimed time, notice version or notice text hash."""
    if ctx.live and not ctx.state.evidence_complete:
        return Hit("the consent event lacks its source (URL or IP), time, notice version or notice text hash")
    return None


def _when(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
