"""Mailbox-provider rules for bulk senders (Gmail, Yahoo from Feb 2024; Outlook from May 2025)."""

from __future__ import annotations

from checks.i18n import msg
from checks.message.alignment import aligned
from checks.rules.base import CampaignContext, Hit, Pack, joined

PACK = Pack("bulk", applies_to=lambda facts: facts.channel == "email")
# Posture findings that mean SPF does not pass for the sending domain and IPs (RFC 7208 permerror/fail).
SPF_FAILING = {"SPF-MISSING", "SPF-MULTIPLE", "SPF-SYNTAX", "SPF-TOO-MANY-LOOKUPS", "SPF-IP-NOT-AUTHORISED"}
DKIM_FAILING = {"DKIM-KEY-MISSING", "DKIM-KEY-REVOKED", "DKIM-KEY-WEAK"}
DMARC_FAILING = {"DMARC-MISSING", "DMARC-INVALID"}


@PACK.campaign("BULK-AUTH")
def auth(ctx: CampaignContext) -> Hit | None:
    """Both SPF and DKIM pass for the sending domain."""
    posture, m, domain = ctx.posture, ctx.message, ctx.facts.sender.domain
    problems: list[str] = sorted(ctx.posture_ids() & (SPF_FAILING | DKIM_FAILING))
    if m is not None and getattr(m, "signed_at_send", False):
        if not ctx.facts.sender.dkim_selectors:
            problems.append(msg("the message is signed at send time but no DKIM selector is declared "
                                "(sender.dkim_selectors)"))
    elif m is not None:
        ours = [s for s in m.dkim if s["ok"] and (aligned(s["d"], m.from_domain) or aligned(s["d"], domain))]
        if not ours:
            problems.append(msg("no verifying DKIM signature of the sending domain on the message"))
    elif posture is not None and not ctx.facts.sender.dkim_selectors:
        problems.append(msg("no DKIM selector declared (sender.dkim_selectors) and no message to verify"))
    if not problems:
        return None
    unknown = [] if posture is not None else [msg("SPF not checked: no DNS posture of the sending domain")]
    return Hit(joined(problems + unknown), {"problems": problems})


@PACK.campaign("BULK-DMARC")
def dmarc(ctx: CampaignContext) -> Hit | None:
    """A DMARC record, and From aligned with DKIM or SPF."""
    problems: list[str] = sorted(ctx.posture_ids() & DMARC_FAILING)
    m = ctx.message
    if m is not None and m.from_domain and not m.aligned:
        problems.append(msg("From ({from_domain}) is not aligned with a passing DKIM or the SPF domain",
                            from_domain=m.from_domain))
    return Hit(joined(problems), {"problems": problems}) if problems else None


@PACK.campaign("BULK-ONE-CLICK", lambda facts: facts.marketing and facts.unsubscribe != "auditor")
def one_click(ctx: CampaignContext) -> Hit | None:
    """Marketing mail offers RFC 8058 one-click unsubscribe (with "auditor" the gate supplies it)."""
    m = ctx.message
    if m is not None and not m.one_click:
        return Hit(msg("List-Unsubscribe with https, List-Unsubscribe-Post: List-Unsubscribe=One-Click, both "
                       "DKIM-signed, are required"), {"list_unsubscribe": m.list_unsubscribe})
    return None


@PACK.campaign("BULK-UNSUBSCRIBE-LATENCY")
def latency(ctx: CampaignContext) -> Hit | None:
    """Unsubscribes honoured within 2 days (silent until the service measures it)."""
    hours = ctx.facts.stats.unsubscribe_latency_hours if ctx.facts.stats else None
    if hours is not None and hours > 48:
        return Hit(msg("unsubscribes took up to {hours:.0f} hours to take effect (limit 48)", hours=hours),
                   {"hours": hours})
    return None


@PACK.campaign("BULK-SPAM-RATE")
def spam_rate(ctx: CampaignContext) -> Hit | None:
    """Reported spam rate under the policy's thresholds (silent until measured)."""
    rate = ctx.facts.stats.spam_rate if ctx.facts.stats else None
    measured = ctx.facts.measured_spam_rate if rate is None else None
    if measured is not None:  # the domain's complaints over delivered, last 30 days (docs/delivery.md)
        rate = measured.rate
    limits = ctx.policy.spam_rate
    if rate is None or rate <= limits.warn:
        return None
    sev = "block" if rate > limits.block else "warn"
    limit = limits.block if sev == "block" else limits.warn
    if measured is None:
        return Hit(msg("reported spam rate {rate:.2%} is over {limit:.2%}", rate=rate, limit=limit),
                   {"rate": rate, "warn": limits.warn, "block": limits.block, "source": "campaign stats"},
                   severity=sev)
    return Hit(msg("measured spam rate {rate:.2%} ({source}, {start} to {end}) is over {limit:.2%}", rate=rate,
                   source=measured.source, start=measured.start, end=measured.end, limit=limit),
               {"rate": rate, "warn": limits.warn, "block": limits.block, **measured.model_dump()}, severity=sev)
