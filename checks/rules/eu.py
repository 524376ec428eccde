"""EU / UK pack: ePrivacy art. 13 and PECR reg. 22 (marketing email), GDPR art. 4(11) and 7 (consent)."""

from __future__ import annotations

from checks.rules.base import LIVE, Hit, Pack, RecipientContext, expired
from checks.rules.facts import CampaignFacts

PACK = Pack("EU", applies_to=lambda facts: bool({"EU", "UK"} & set(facts.jurisdictions)))
# Ledger methods that record an existing-customer relationship rather than consent.
SOFT_OPT_IN_METHODS = {"soft-opt-in", "soft_opt_in", "existing-customer", "existing_customer"}


def electronic_marketing(facts: CampaignFacts) -> bool:
    """Direct marketing by electronic mail (email and SMS alike, ePrivacy art. 2(h))."""
    return facts.marketing and (facts.channel in ("email", "sms") or facts.channel.startswith("messenger:"))


def _soft(ctx: RecipientContext) -> bool:
    return (ctx.state.method or "").lower() in SOFT_OPT_IN_METHODS


@PACK.recipient("EU-EPRIVACY-13-CONSENT", electronic_marketing)
def eprivacy(ctx: RecipientContext) -> Hit | None:
    """Marketing email needs prior consent, unless the soft opt-in applies."""
    s = ctx.state
    if s is None:
        return Hit("no consent and no existing-customer (soft opt-in) record")
    if s.status not in LIVE or expired(s, ctx.now):
        return Hit(f"consent is {'expired' if s.status in LIVE else s.status}")
    if _soft(ctx) and not ctx.policy.soft_opt_in:
        return Hit("recorded as soft opt-in (existing customer), which the organisation policy does not allow",
                   {"method": s.method})
    return None


@PACK.recipient("EU-GDPR-7-DEMONSTRABLE", electronic_marketing)
def demonstrable(ctx: RecipientContext) -> Hit | None:
    """The controller must be able to demonstrate consent."""
    if not ctx.live or _soft(ctx):  # soft opt-in rests on the customer relationship, not consent
        return None
    if not ctx.state.evidence_complete:
        return Hit("the ledger lacks source, time, notice version or notice text hash of this consent")
    return None


@PACK.recipient("EU-GDPR-CONSENT-QUALITY")
def quality(ctx: RecipientContext) -> Hit | None:
    """Consent by a pre-ticked box or bundled with other terms is not freely given."""
    if not ctx.live:
        return None
    flaws = [w for w, flag in (("pre-ticked box", ctx.state.pre_ticked), ("bundled with other terms",
                                                                          ctx.state.bundled)) if flag]
    return Hit("consent collected by " + " and ".join(flaws), {"flaws": flaws}) if flaws else None
