"""CA pack: CASL (S.C. 2010, c. 23) for commercial electronic messages."""

from __future__ import annotations

from checks.rules.base import LIVE, CampaignContext, Hit, Pack, RecipientContext, expired
from checks.rules.facts import CampaignFacts

PACK = Pack("CA", applies_to=lambda facts: "CA" in facts.jurisdictions)
NO_REPLY = ("noreply", "no-reply", "donotreply", "do-not-reply")


def commercial(facts: CampaignFacts) -> bool:
    """A commercial electronic message (CASL s. 1(2))."""
    return facts.marketing


@PACK.recipient("CA-CASL-CONSENT", commercial)
def consent(ctx: RecipientContext) -> Hit | None:
    """Express consent, or implied consent within its period (s. 10(10): 2 years / 6 months)."""
    s = ctx.state
    if s is None:
        return Hit("no express or implied consent on record")
    if s.status not in LIVE:
        return Hit(f"consent is {s.status}")
    if expired(s, ctx.now):
        return Hit("implied consent period has ended" if _implied(s.method) else "consent has expired")
    if _implied(s.method) and s.expires_at is None:
        return Hit("implied consent recorded without its expiry (2 years after a purchase, 6 months after "
                   "an inquiry)", {"method": s.method})
    return None


def _implied(method: str | None) -> bool:
    return "implied" in (method or "").lower()


@PACK.campaign("CA-CASL-IDENTIFICATION", commercial)
def identification(ctx: CampaignContext) -> Hit | None:
    """The sender's name, a mailing address, and a phone, email or web contact."""
    s = ctx.facts.sender
    address = (getattr(ctx.message, "from_addr", None) or _addr(s.from_) or "").lower()
    email_contact = bool(address) and not address.split("@")[0].startswith(NO_REPLY)
    missing = []
    if not (s.legal_name or "").strip():
        missing.append("the sender's name (sender.legal_name)")
    if not (s.postal_address or "").strip():
        missing.append("a mailing address (sender.postal_address)")
    if not (s.phone or s.website or email_contact):
        missing.append("a phone number, email address or web address to contact")
    return Hit("missing: " + "; ".join(missing), {"missing": missing}) if missing else None


@PACK.campaign("CA-CASL-UNSUBSCRIBE", commercial)
def unsubscribe(ctx: CampaignContext) -> Hit | None:
    """An unsubscribe mechanism set out clearly and prominently (honoured within 10 business days)."""
    m = ctx.message
    if m is None or m.unsubscribe_visible:
        return None
    return Hit("no unsubscribe mechanism set out clearly in the message"
               + (" (List-Unsubscribe alone is not shown to every reader)" if m.list_unsubscribe else ""))


def _addr(value: str | None) -> str | None:
    from email.utils import parseaddr

    return parseaddr(value)[1] or None if value else None
