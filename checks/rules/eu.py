"""EU / UK pack: ePrivacy art. 13 and PECR reg. 22 (marketing email), GDPR art. 4(11) and 7 (consent)."""

from __future__ import annotations

from checks.i18n import msg
from checks.rules.base import LIVE, Hit, Pack, RecipientContext, expired
from checks.rules.consent import CONSENT_BASES, SOFT_OPT_IN_METHODS, basis, soft_opt_in
from checks.rules.facts import CampaignFacts

PACK = Pack("EU", applies_to=lambda facts: bool({"EU", "UK"} & set(facts.jurisdictions)))
__all__ = ["PACK", "SOFT_OPT_IN_METHODS", "electronic_marketing"]


def electronic_marketing(facts: CampaignFacts) -> bool:
    """Direct marketing by electronic mail (email and SMS alike, ePrivacy art. 2(h))."""
    return facts.marketing and (facts.channel in ("email", "sms") or facts.channel.startswith("messenger:"))


@PACK.recipient("EU-EPRIVACY-13-CONSENT", electronic_marketing)
def eprivacy(ctx: RecipientContext) -> Hit | None:
    """Marketing email needs prior consent, unless the soft opt-in applies (and the policy allows it)."""
    s = ctx.state
    if s is None:
        return Hit(msg("no consent and no existing-customer (soft opt-in) record"))
    if s.status not in LIVE or expired(s, ctx.now):
        return Hit(msg("consent is {status}", status="expired" if s.status in LIVE else s.status))
    if soft_opt_in(s):
        if not ctx.policy.soft_opt_in:
            return Hit(msg("recorded as soft opt-in (existing customer), which the organisation policy does not allow"),
                       {"method": s.method, "legal_basis": basis(s)})
        return None
    b = basis(s)
    if b not in CONSENT_BASES:
        # ePrivacy art. 13(1) / PECR reg. 22(2): consent is the only basis for unsolicited
        # marketing by electronic mail; GDPR art. 6(1)(f) legitimate interest does not replace it.
        return Hit(msg("legal basis {basis} does not allow marketing by {channel}: only consent, or the soft "
                       "opt-in where the policy allows it (ePrivacy art. 13(1)-(2), PECR reg. 22)",
                       basis=b, channel=ctx.facts.channel), {"legal_basis": b})
    return None


@PACK.recipient("EU-GDPR-7-DEMONSTRABLE", electronic_marketing)
def demonstrable(ctx: RecipientContext) -> Hit | None:
    """The controller must be able to demonstrate consent."""
    if not ctx.live or soft_opt_in(ctx.state):  # soft opt-in rests on the customer relationship, not consent
        return None
    if not ctx.state.evidence_complete:
        return Hit(msg("the ledger lacks source, time, notice version or notice text hash of this consent"))
    return None


@PACK.recipient("EU-GDPR-CONSENT-QUALITY")
def quality(ctx: RecipientContext) -> Hit | None:
    """A pre-ticked box is no consent at all (CJEU C-673/17 Planet49): the recipient is suppressed;
    consent bundled with other terms is doubtful (GDPR art. 7(2))."""
    if not ctx.live:
        return None
    if ctx.state.pre_ticked:
        flaws = ["pre-ticked box"] + (["bundled with other terms"] if ctx.state.bundled else [])
        return Hit(msg("consent collected by a pre-ticked box is not valid consent (CJEU C-673/17 Planet49)"),
                   {"flaws": flaws}, severity="block")
    if ctx.state.bundled:
        return Hit(msg("consent collected bundled with other terms"), {"flaws": ["bundled with other terms"]})
    return None
