"""RU pack: 38-FZ (advertising), 152-FZ (personal data) — RULES.md §5 RU.

What the document cannot tell is said in the detail: the processing location needs
``sender.processing_country``; the notice content is only known for versions the policy lists
in ``reviewed_notices``; a cross-border notification only when ``cross_border_notifications``
records it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from checks.i18n import msg
from checks.rules.base import (
    LIVE,
    CampaignContext,
    Hit,
    Pack,
    RecipientContext,
    expired,
    flag,
    joined,
)
from checks.rules.facts import CampaignFacts

PACK = Pack("RU", applies_to=lambda facts: "RU" in facts.jurisdictions)
# 152-FZ art. 9 p. 1 as amended by 156-FZ of 24.06.2025: consent as a separate document.
SEPARATE_DOCUMENT_FROM = datetime(2025, 9, 1, tzinfo=UTC)
AD_LABEL = re.compile(r"\bреклама\b", re.I)


def advertising(facts: CampaignFacts) -> bool:
    """An advertising campaign."""
    return facts.advertising


def marketing(facts: CampaignFacts) -> bool:
    """Promotion of goods or services by direct contact (152-FZ art. 15 p. 1)."""
    return facts.marketing


def internet_ad(facts: CampaignFacts) -> bool:
    """Advertising distributed on the internet (email, messengers, push)."""
    return facts.advertising and facts.internet


def _no_live_consent(ctx: RecipientContext) -> str | None:
    s = ctx.state
    if s is None:
        return msg("no consent on record")
    if s.status not in LIVE:
        return msg("consent is {status}", status=s.status)
    if expired(s, ctx.now):
        return msg("consent has expired")
    return None


@PACK.recipient("RU-38FZ-18-CONSENT", advertising)
def ad_consent(ctx: RecipientContext) -> Hit | None:
    """Advertising over telecommunication networks needs the subscriber's prior consent."""
    why = _no_live_consent(ctx)
    if why is None:
        return None
    return Hit(msg("{why} for advertising by {channel}; the advertiser must prove it", why=why,
                   channel=ctx.facts.channel))


@PACK.recipient("RU-152FZ-15-DIRECT-MARKETING", marketing)
def direct_marketing(ctx: RecipientContext) -> Hit | None:
    """Direct marketing with personal data needs prior consent, and stops at once on demand."""
    why = _no_live_consent(ctx)
    return Hit(msg("{why} for direct marketing ({purpose})", why=why, purpose=ctx.facts.purpose)) if why else None


@PACK.recipient("RU-152FZ-9-CONSENT-CONTENT")
def consent_content(ctx: RecipientContext) -> Hit | None:
    """The notice behind the consent must name operator, purposes, data, actions, term, withdrawal."""
    if not ctx.live:
        return None
    version = ctx.state.notice_version
    if not version:
        return Hit(msg("no notice version recorded: the consent text cannot be shown to contain the art. 9 p. 4 items"))
    reviewed = ctx.policy.reviewed_notices
    if reviewed and version not in reviewed:
        return Hit(msg("notice version {version!r} is not among the versions legal reviewed", version=version),
                   {"notice_version": version})
    return None


@PACK.recipient("RU-152FZ-9-SEPARATE")
def separate(ctx: RecipientContext) -> Hit | None:
    """From 1 Sept 2025 consent is a separate document, not a clause of other terms."""
    if not ctx.live:
        return None
    s = ctx.state
    granted = getattr(s, "granted_at", None)
    if granted is not None and granted.tzinfo is None:
        granted = granted.replace(tzinfo=UTC)
    if granted is not None and granted < SEPARATE_DOCUMENT_FROM:
        return None
    separate_document = flag(s.separate_document)
    if separate_document is False:
        return Hit(msg("consent was collected inside other terms, not as a separate document"))
    if separate_document is None:
        return Hit(msg("whether consent was a separate document is not recorded (needed for grants from 1 Sept 2025)"))
    return None


@PACK.campaign("RU-38FZ-18.1-MARKING", internet_ad)
def marking(ctx: CampaignContext) -> Hit | None:
    """Internet advertising carries «Реклама», the advertiser's name or site, and an erid."""
    f, m = ctx.facts, ctx.message
    mark = f.message.ad_marking
    text = " ".join(filter(None, [getattr(m, "subject", None), getattr(m, "visible_text", None),
                                  f.message.subject, f.message.text]))
    hrefs = " ".join(lk.get("href", "") for lk in getattr(m, "links", None) or [])
    missing = []
    if not AD_LABEL.search(text) and not (m is None and mark and mark.label):
        missing.append(msg("the label «Реклама» in the message"))
    names = [n for n in (f.sender.legal_name, _host(f.sender.website)) if n]
    if not any(n.lower() in text.lower() for n in names):
        missing.append(msg("the advertiser's name or site in the message") if names
                       else msg("the advertiser's name or site (sender.legal_name / sender.website not given)"))
    if not ((mark and mark.erid) or re.search(r"[?&]erid=\w", hrefs) or re.search(r"\berid\b", text, re.I)):
        missing.append(msg("an erid token (ad_marking.erid or erid= in the links)"))
    if missing:
        return Hit(msg("missing: {missing}", missing=joined(missing)), {"missing": missing})
    return None


@PACK.campaign("RU-152FZ-18-LOCALISATION")
def localisation(ctx: CampaignContext) -> Hit | None:
    """Russian citizens' data are recorded and stored in databases in Russia."""
    country = (ctx.facts.sender.processing_country or "").upper()
    if not country:
        return Hit(msg("processing country not declared (sender.processing_country): cannot confirm the "
                       "databases holding Russian subjects' data are in Russia"), {"processing_country": None})
    if country != "RU":
        return Hit(msg("the campaign is processed in {country}, outside Russia", country=country),
                   {"processing_country": country})
    return None


@PACK.campaign("RU-152FZ-12-CROSS-BORDER")
def cross_border(ctx: CampaignContext) -> Hit | None:
    """A transfer abroad needs a prior notification to Roskomnadzor."""
    country = (ctx.facts.sender.processing_country or "").upper()
    if not country or country == "RU":
        return None  # nothing declared leaves Russia (LOCALISATION says when the country is unknown)
    if country in ctx.policy.cross_border_notifications:
        return None
    return Hit(msg("data go to {country}; no cross-border notification recorded in the policy "
                   "(cross_border_notifications)", country=country), {"processing_country": country})


def _host(url: str | None) -> str | None:
    if not url:
        return None
    return re.sub(r"^[a-z]+://", "", url.strip().lower()).split("/")[0].removeprefix("www.") or None
