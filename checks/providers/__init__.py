"""ESP payloads read into one shape: what happened to which recipient, when, and by what id.

Pure code (no Flask, no database): each provider module has ``raw_events(body)`` (the body's
events as the provider sent them, after every check that can refuse the body) and
``parse(body) -> list[ProviderEvent]`` (built from ``raw_events``, refusing nothing more), and,
where the provider signs its requests, a ``verify_*`` function. ``parse_payload`` and
``count_events`` pick the module by provider name.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from importlib import import_module
from types import ModuleType
from typing import Any, NamedTuple

# What an event becomes in Auditor (docs/integrations.md, "What an event becomes").
WITHDRAWAL_KINDS = frozenset({"unsubscribe", "group_unsubscribe", "complaint"})
HARD_BOUNCE = "hard_bounce"
KINDS = ("unsubscribe", "group_unsubscribe", "complaint", "hard_bounce", "soft_bounce", "processed",
         "sent", "delivered", "deferred", "dropped", "opened", "clicked", "other")
WEBHOOK_PROVIDERS = ("sendgrid", "mailchimp", "unisender", "sendpulse")
MAX_EVENT_ID = 200
MAX_UNIX_TIME = 253402300800  # 10000-01-01: the first Unix time ``datetime`` cannot hold


class PayloadError(ValueError):
    """The body is not the provider's webhook format; the message says what is wrong."""


class SignatureError(ValueError):
    """The request's signature or authentication value does not verify."""


class ProviderEvent(NamedTuple):
    """One recipient event from an ESP, in the provider-neutral shape (immutable; a named tuple
    because a batch builds thousands: three times cheaper than a frozen dataclass)."""

    kind: str  # one of KINDS
    provider_type: str  # the provider's own name of the event ("spamreport", "cleaned", ...)
    recipient: str
    event_id: str  # the provider's id, or ``c:`` + SHA-256 of the event's content when it has none
    occurred_at: datetime
    campaign_id: int | None = None  # Auditor's campaign id when the payload carries it
    esp_campaign: str | None = None  # the provider's campaign / task / message id
    reason: str | None = None
    url: str | None = None  # a clicked link (an Auditor unsubscribe URL links the event to its campaign)

    @property
    def withdraws(self) -> bool:
        """True when the event takes consent away (unsubscribe or complaint)."""
        return self.kind in WITHDRAWAL_KINDS


def content_id(data: Any) -> str:
    """An id for a provider event that has none: SHA-256 of its canonical JSON."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "c:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def unix_time(value: Any, field: str) -> datetime:
    """An aware UTC time from Unix seconds (int, float or digit string)."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadError(f"{field}: not a Unix time: {value!r}") from None


def utc_text_time(value: Any, field: str) -> datetime:
    """An aware time from ``YYYY-MM-DD HH:MM:SS`` (read as UTC) or ISO 8601 with an offset."""
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{field}: missing time")
    try:
        ts = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        raise PayloadError(f"{field}: not a date-time: {value!r}") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def campaign_number(value: Any) -> int | None:
    """Auditor's campaign id from a custom argument (a positive integer), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def short(value: Any, limit: int = 500) -> str | None:
    """A printable, bounded text of a provider field, or None."""
    if value is None or value == "":
        return None
    text = value if type(value) is str else str(value)
    if not text.isprintable():  # rare: only then filter character by character
        text = "".join(ch for ch in text if ch.isprintable())
    return text[:limit] or None


def event_id(value: Any, fallback: Any) -> str:
    """The provider's event id when it is a usable string, else the content id of ``fallback``."""
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        text = str(value).strip()
        if len(text) <= MAX_EVENT_ID and text.isprintable():
            return text
    return content_id(fallback)


def parse_payload(provider: str, body: bytes) -> list[ProviderEvent]:
    """The events of a webhook body of ``provider``; raises PayloadError when malformed."""
    return _module(provider).parse(body)


def count_events(provider: str, body: bytes) -> int:
    """How many events a webhook body holds, without building them: the receiver's check before
    its 2xx when a worker does the parsing. It reads the body through the provider's own
    ``raw_events``, as ``parse`` does, so it refuses exactly what ``parse_payload`` refuses."""
    return len(_module(provider).raw_events(body))


def _module(provider: str) -> ModuleType:
    """The provider's module (``raw_events`` and ``parse``); PayloadError for an unknown provider."""
    if provider not in WEBHOOK_PROVIDERS:
        raise PayloadError(f"unknown provider {provider!r}")
    return import_module(f"checks.providers.{provider}")


def json_array_events(body: bytes, provider: str) -> list[dict[str, Any]]:
    """The events of a JSON array body (SendGrid, SendPulse), each checked for what their ``parse``
    reads and could refuse: an object with a non-blank ``email``, an ``event`` name and a Unix
    ``timestamp``. PayloadError names the first event that is not."""
    data = json_body(body)
    if type(data) is list and all(  # the common batch, checked in one pass without a call per event
            type(ev) is dict and type(ev.get("email")) is str and type(ev.get("event")) is str
            and ev["email"].strip() and (  # a Unix time that ``unix_time`` reads for sure:
                # SendGrid's integers from 1970 to before MAX_UNIX_TIME, SendPulse's strings of
                # at most 11 ASCII digits (below MAX_UNIX_TIME)
                0 <= ts < MAX_UNIX_TIME if type(ts := ev.get("timestamp")) is int
                else type(ts) is str and len(ts) <= 11 and ts.isdigit() and ts.isascii())
            for ev in data):
        return data
    # Something is unusual (or the timestamps are not plain integers, as SendPulse's digit strings):
    # the checks one by one, which say what is wrong. What passes above passes here too.
    if not isinstance(data, list):
        raise PayloadError(f"{provider} posts a JSON array of events")
    for i, ev in enumerate(data):
        if not isinstance(ev, dict):
            raise PayloadError(f"event {i}: not an object")
        email, name = ev.get("email"), ev.get("event")
        if not isinstance(email, str) or not email.strip() or not isinstance(name, str):
            raise PayloadError(f"event {i}: needs 'email' and 'event'")
        unix_time(ev.get("timestamp"), f"event {i}: timestamp")
    return data


# A JSON escape of a UTF-16 surrogate: paired (an emoji) it decodes to one character; lone, it
# decodes to a string no UTF-8 encoder accepts (RFC 8259 section 8.2).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def json_body(body: bytes) -> Any:
    """The body as JSON, or PayloadError saying why not (not UTF-8, also by a lone surrogate escape)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8") from None
    except RecursionError:
        raise PayloadError("JSON nested too deeply") from None
    except ValueError as exc:
        raise PayloadError(f"the body is not valid JSON: {exc}") from None
    if b"\\" in body and _SURROGATE_ESCAPE.search(body):  # rare: only then look for a lone one
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise PayloadError("the body is not UTF-8: it escapes a lone UTF-16 surrogate") from None
        except RecursionError:
            raise PayloadError("JSON nested too deeply") from None
    return data
