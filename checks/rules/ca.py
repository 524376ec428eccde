"""CA pack: CASL (S.C. 2010, c. 23) for commercial electronic messages."""

from __future__ import annotations

from datetime import timedelta

from checks.i18n import msg
from checks.rules.base import LIVE, CampaignContext, Hit, Pack, RecipientContext, expired
from checks.rules.consent import CONSENT_BASES, basis
from checks.rules.facts import CampaignFacts

PACK = Pack("CA", applies_to=lambda facts: "CA" in facts.jurisdictions)
NO_REPLY = ("noreply", "no-reply", "donotreply", "do-not-reply")
# CASL s. 10(10): implied consent lasts 2 years after a purchase or contract, 6 months after an
# inquiry. Counted in days on the short side (no leap day, 182 days), as the sender bears the proof.
IMPLIED_PERIODS = {"purchase": timedelta(days=730), "inquiry": timedelta(days=182)}
IMPLIED_BASES = {"implied_purchase": "purchase", "implied_business": "purchase",
                 "existing_business_relationship": "purchase", "implied_inquiry": "inquiry"}


def commercial(facts: CampaignFacts) -> bool:
    """A commercial electronic message (CASL s. 1(2))."""
    return facts.marketing


def implied_kind(state: object) -> str | None:
    """``purchase`` or ``inquiry`` for implied consent, by legal basis or (first wave) by method;
    an implied consent of unknown kind gets the shorter period."""
    b = basis(state)
    if b in IMPLIED_BASES:
        return IMPLIED_BASES[b]
    method = (getattr(state, "method", None) or "").lower()
    if b in ("implied", "implied_consent") or (b in CONSENT_BASES and "implied" in method):
        return "purchase" if "purchase" in method or "business" in method else "inquiry"
    return None


@PACK.recipient("CA-CASL-CONSENT", commercial)
def consent(ctx: RecipientContext) -> Hit | None:
    """Express consent, or implied consent within its period from ``claimed_at`` (s. 10(9)-(10))."""
    s = ctx.state
    if s is None:
        return Hit(msg("no express or implied consent on record"))
    if s.status not in LIVE:
        return Hit(msg("consent is {status}", status=s.status))
    kind = implied_kind(s)
    if expired(s, ctx.now):
        return Hit(msg("implied consent period has ended") if kind else msg("consent has expired"))
    if kind is not None:
        period = IMPLIED_PERIODS[kind]
        # Compared with a fixed instant, not added to: the gate's memo keeps such comparisons cheap.
        if s.granted_at is None or _aware(s.granted_at, ctx.now) <= ctx.now - period:
            return Hit(msg("implied consent after a {kind} lasts {days} days from {claimed} (CASL s. 10(10)); "
                           "the period has ended", kind=kind, days=period.days,
                           claimed=s.granted_at.isoformat() if s.granted_at else "an unknown date"),
                       {"implied": kind, "granted_at": s.granted_at.isoformat() if s.granted_at else None})
        return None
    b = basis(s)
    if b not in CONSENT_BASES:
        return Hit(msg("legal basis {basis} is neither express nor implied consent (CASL s. 6(1)(a), s. 10)",
                       basis=b), {"legal_basis": b})
    return None


def _aware(value: object, now: object) -> object:
    if getattr(value, "tzinfo", 1) is None and getattr(now, "tzinfo", None) is not None:  # SQLite: naive UTC
        return value.replace(tzinfo=now.tzinfo)  # type: ignore[attr-defined]
    return value


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
    return Hit(msg("missing: {missing}", missing="; ".join(missing)), {"missing": missing}) if missing else None


@PACK.campaign("CA-CASL-UNSUBSCRIBE", commercial)
def unsubscribe(ctx: CampaignContext) -> Hit | None:
    """An unsubscribe mechanism set out clearly and prominently (honoured within 10 business days)."""
    m = ctx.message
    if m is None or m.unsubscribe_visible:
        return None
    if m.list_unsubscribe:
        return Hit(msg("no unsubscribe mechanism set out clearly in the message (List-Unsubscribe alone is not "
                       "shown to every reader)"))
    return Hit(msg("no unsubscribe mechanism set out clearly in the message"))


def _addr(value: str | None) -> str | None:
    from email.utils import parseaddr

    return parseaddr(value)[1] or None if value else None
