"""US pack: CAN-SPAM, 15 U.S.C. §7704, for commercial electronic mail."""

from __future__ import annotations

import re

from checks.i18n import msg
from checks.message.alignment import organisational_domain
from checks.rules.base import CampaignContext, Hit, Pack
from checks.rules.facts import CampaignFacts

PACK = Pack("US", applies_to=lambda facts: "US" in facts.jurisdictions)
# A reply or forward prefix (English, German, French, Russian) that a first message should not carry.
FAKE_THREAD = re.compile(r"^\s*(?:re|fwd?|aw|wg|tr|ответ|отв|пересл)\s*(?:\[\d+\])?\s*:", re.I)
AD_WORDS = re.compile(r"\b(?:advertisement|advertising|ad|sponsored|promotion)\b|\bреклама\b", re.I)
EMAIL_IN_NAME = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")


def commercial_email(facts: CampaignFacts) -> bool:
    """A commercial electronic mail message (primary purpose: advertising or promotion)."""
    return facts.channel == "email" and facts.marketing


@PACK.campaign("US-CANSPAM-OPT-OUT", commercial_email)
def opt_out(ctx: CampaignContext) -> Hit | None:
    """A clear and conspicuous opt-out that works."""
    m = ctx.message
    if m is None:
        return None
    if not m.unsubscribe_visible:
        how = msg("List-Unsubscribe alone") if m.list_unsubscribe else msg("no mechanism at all")
        return Hit(msg("no clear and conspicuous opt-out in the message ({how})", how=how))
    return None


@PACK.campaign("US-CANSPAM-ADDRESS", commercial_email)
def postal_address(ctx: CampaignContext) -> Hit | None:
    """The sender's valid physical postal address, shown in the message."""
    address = (ctx.facts.sender.postal_address or "").strip()
    if not address:
        return Hit(msg("no postal address declared (sender.postal_address)"))
    if not re.search(r"\d", address) or len(address) < 10:
        return Hit(msg("{address!r} does not look like a physical postal address", address=address),
                   {"postal_address": address})
    text = getattr(ctx.message, "visible_text", "") or ""
    if ctx.message is not None and not _shown(address, text):
        return Hit(msg("the declared postal address does not appear in the message"), {"postal_address": address})
    return None


@PACK.campaign("US-CANSPAM-AD-LABEL", commercial_email)
def ad_label(ctx: CampaignContext) -> Hit | None:
    """Identified as an advertisement, unless every recipient gave prior affirmative consent."""
    f, m = ctx.facts, ctx.message
    if not f.advertising:
        return None
    mark = f.message.ad_marking
    text = " ".join(filter(None, [getattr(m, "subject", None), getattr(m, "visible_text", None),
                                  f.message.subject, f.message.text]))
    if AD_WORDS.search(text) or (m is None and mark and mark.label):
        return None
    return Hit(msg("the message does not say it is an advertisement (not needed if every recipient gave prior "
                   "affirmative consent: a reviewer decides)"))


@PACK.campaign("US-CANSPAM-HEADER", commercial_email)
def header(ctx: CampaignContext) -> list[Hit]:
    """From, Reply-To and routing information must not mislead."""
    m, sender = ctx.message, ctx.facts.sender
    hits = []
    if m is None or not m.from_domain:
        return hits
    if sender.domain and organisational_domain(m.from_domain) != organisational_domain(sender.domain):
        hits.append(Hit(msg("From is on {from_domain}, the declared sending domain is {domain}",
                            from_domain=m.from_domain, domain=sender.domain),
                        {"from_domain": m.from_domain, "sender_domain": sender.domain}))
    shown = EMAIL_IN_NAME.search(m.from_display or "")
    if shown and organisational_domain(shown.group(1)) != organisational_domain(m.from_domain):
        hits.append(Hit(msg("the From display name shows {shown} but the address is on {from_domain}",
                            shown=shown.group(0), from_domain=m.from_domain),
                        {"display": m.from_display}))
    if not m.aligned:
        hits.append(Hit(msg("From is not authenticated by an aligned DKIM or SPF domain (routing information "
                            "does not support it)"), {"from_domain": m.from_domain}))
    return hits


@PACK.campaign("US-CANSPAM-SUBJECT", commercial_email)
def subject(ctx: CampaignContext) -> Hit | None:
    """A subject line that does not mislead about the content (e.g. a fake RE:)."""
    m = ctx.message
    subj = (getattr(m, "subject", None) or ctx.facts.message.subject or "")
    if FAKE_THREAD.match(subj) and not getattr(m, "in_reply_to", False):
        return Hit(msg("{subject!r} poses as a reply or forward, but the message starts no thread "
                       "(no In-Reply-To or References)", subject=subj), {"subject": subj})
    return None


def _shown(address: str, text: str) -> bool:
    """Most words of the address appear in the text (line breaks and commas vary)."""
    words = [w for w in re.findall(r"\w+", address.lower()) if len(w) > 1 or w.isdigit()]
    have = set(re.findall(r"\w+", text.lower()))
    return bool(words) and sum(w in have for w in words) >= 0.6 * len(words)
