"""Channel rules: SMS quiet hours, the SMS sender name (126-FZ art. 44.1), auto-dialled advertising (38-FZ art. 18 p. 2)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from checks.i18n import msg
from checks.rules.base import LIVE, CampaignContext, Hit, Pack, RecipientContext, expired
from checks.rules.facts import CampaignFacts

PACK = Pack("channel", applies_to=lambda facts: facts.channel != "email")
# An alphanumeric sender ID: up to 11 Latin letters, digits and a few signs (GSM 03.38 practice).
SENDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._&-]{0,10}$")
# Numbers in runs this long, one after another, were generated, not collected.
GENERATED_RUN = 5


def sms_ad(facts: CampaignFacts) -> bool:
    """An advertising SMS."""
    return facts.channel == "sms" and facts.advertising


def ru_sms(facts: CampaignFacts) -> bool:
    """An SMS campaign under Russian law."""
    return facts.channel == "sms" and "RU" in facts.jurisdictions


def ru_auto(facts: CampaignFacts) -> bool:
    """SMS or voice advertising under Russian law (automatic dialling and distribution)."""
    return facts.channel in ("sms", "voice") and facts.advertising and "RU" in facts.jurisdictions


@lru_cache(maxsize=65536)
def zones_of(number: str) -> tuple[str, ...]:
    """IANA time zones phonenumbers gives for a number's range; empty when unknown.

    For a range it cannot place (Russian and Kazakh mobiles share +7 and answer with every zone
    of the code, from Europe/Bucharest to Asia/Anadyr) the list has many zones: only a list of
    one says where the number is.
    """
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = phone_timezone.time_zones_for_number(parsed)
    return tuple(z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE)


def zone_of(number: str) -> str | None:
    """The number's one time zone, when its range maps to exactly one; else None (unknown)."""
    zones = zones_of(number)
    return zones[0] if len(zones) == 1 else None


def _outside(when: datetime, zone: str, window: tuple[int, int]) -> bool:
    try:
        local = when.astimezone(ZoneInfo(zone))
    except ZoneInfoNotFoundError:
        return False
    start, end = window
    return not (start * 60 <= local.hour * 60 + local.minute < end * 60)


@PACK.campaign("SMS-QUIET-HOURS", sms_ad)
def quiet_hours(ctx: CampaignContext) -> list[Hit] | Hit | None:
    """An advertising SMS goes out within the policy's hours in the recipient's time zone."""
    when, window = ctx.facts.scheduled_at, tuple(ctx.policy.quiet_hours)
    if when is None or not ctx.facts.recipients:
        return None  # unscheduled: the send time, and so the local time, is not known yet
    if when.tzinfo is None:
        return Hit(msg("scheduled_at has no UTC offset: local times cannot be worked out"), severity="info")
    definite: Counter[str] = Counter()
    unknown = 0
    outside = lru_cache(maxsize=None)(lambda zone: _outside(when, zone, window))
    for number in ctx.facts.recipients:
        zones = zones_of(number)
        if len(zones) == 1:
            if outside(zones[0]):
                definite[zones[0]] += 1
        elif not zones or any(outside(z) for z in zones):
            # the range names no single zone: the number's zone is unknown, so say so, never guess one;
            # silent only when the time is inside the window in every zone the range could be in
            unknown += 1
    span = f"{window[0]:02d}:00-{window[1]:02d}:00"
    evidence = {"scheduled_at": when.isoformat(), "window": span, "outside": dict(definite), "unknown": unknown}
    hits = []
    if definite:
        hits.append(Hit(msg("{count} recipient(s) would get it outside {window} local time ({zones})",
                            count=sum(definite.values()), window=span, zones=", ".join(sorted(definite))),
                        evidence))
    if unknown:
        hits.append(Hit(msg("the time zone of {count} recipient(s) is unknown (their number range does not "
                            "name one zone): whether {time} UTC is within {window} for them cannot be said",
                            count=unknown, time=f"{when.astimezone(UTC):%H:%M}", window=span),
                        evidence, severity="info"))
    return hits


@PACK.campaign("RU-126FZ-44.1-SENDER", ru_sms)
def sender_name(ctx: CampaignContext) -> Hit | None:
    """An SMS campaign sends under a sender name registered with the operators."""
    name = (ctx.facts.sender.sms_sender_name or "").strip()
    if not name:
        return Hit(msg("no SMS sender name (sender.sms_sender_name)"))
    if not SENDER_NAME.match(name):
        return Hit(msg("{name!r} is not a valid alphanumeric sender name (up to 11 Latin characters)", name=name),
                   {"sms_sender_name": name})
    registered = ctx.policy.registered_sms_senders
    if registered and name not in registered:
        return Hit(msg("{name!r} is not among the registered sender names of the policy", name=name),
                   {"sms_sender_name": name})
    return None


@PACK.campaign("RU-38FZ-18-AUTO", ru_auto)
def generated_numbers(ctx: CampaignContext) -> Hit | None:
    """Numbers in long consecutive runs were generated, not collected with consent."""
    digits = sorted({int(d) for d in (re.sub(r"\D", "", r) for r in ctx.facts.recipients) if d})
    runs, length = 0, 1
    for a, b in zip(digits, digits[1:], strict=False):
        length = length + 1 if b == a + 1 else 1
        if length == GENERATED_RUN:
            runs += 1
    if runs:
        return Hit(msg("{runs} run(s) of {length}+ consecutive numbers: the list looks generated", runs=runs,
                       length=GENERATED_RUN),
                   {"runs": runs})
    return None


@PACK.recipient("RU-38FZ-18-AUTO", ru_auto)
def not_consented(ctx: RecipientContext) -> Hit | None:
    """A number that is not a consented subject's receives no automatic advertising."""
    s = ctx.state
    if s is None or s.status not in LIVE or expired(s, ctx.now):
        why = msg("no consent") if s is None else msg("consent is {status}", status=s.status)
        return Hit(msg("the number is not drawn from consented subjects ({why})", why=why))
    return None
