"""ESP payloads read into one shape: what happened to which recipient, when, and by what id.

Pure code (no Flask, no database): each provider module has ``parse(body) -> list[ProviderEvent]``
and, where the provider signs its requests, a ``verify_*`` function. ``parse_payload`` picks the
module by provider name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
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
    from checks.providers import mailchimp, sendgrid, sendpulse, unisender

    modules = {"sendgrid": sendgrid, "mailchimp": mailchimp, "unisender": unisender, "sendpulse": sendpulse}
    if provider not in modules:
        raise PayloadError(f"unknown provider {provider!r}")
    return modules[provider].parse(body)


def count_events(provider: str, body: bytes) -> int:
    """How many events a webhook body holds, raising PayloadError wherever ``parse_payload`` would,
    without building them: the receiver's check before its 2xx when a worker does the parsing."""
    names = {"sendgrid": "SendGrid", "sendpulse": "SendPulse"}
    if provider not in names:  # one form (Mailchimp) or a rare format (UniOne): parse it
        return len(parse_payload(provider, body))
    data = json_body(body)
    if type(data) is list and all(  # the common batch, checked in one pass without a call per event
            type(ev) is dict and type(ev.get("email")) is str and type(ev.get("event")) is str
            and type(ev.get("timestamp")) is int and 0 <= ev["timestamp"] < MAX_UNIX_TIME and ev["email"].strip()
            for ev in data):
        return len(data)
    n = 0  # something is unusual: the parser's own checks, which say what is wrong
    for i, ev, _email, _name in array_events(data, names[provider]):
        unix_time(ev.get("timestamp"), f"event {i}: timestamp")  # the one field parse() refuses
        n += 1
    return n


def json_array_events(body: bytes, provider: str) -> Iterator[tuple[int, dict[str, Any], str, str]]:
    """(index, event, email, event name) of a JSON array of events (SendGrid, SendPulse)."""
    return array_events(json_body(body), provider)


def array_events(data: Any, provider: str) -> Iterator[tuple[int, dict[str, Any], str, str]]:
    """``json_array_events`` of a body already decoded."""
    if not isinstance(data, list):
        raise PayloadError(f"{provider} posts a JSON array of events")
    for i, ev in enumerate(data):
        if not isinstance(ev, dict):
            raise PayloadError(f"event {i}: not an object")
        email, name = ev.get("email"), ev.get("event")
        if not isinstance(email, str) or not email.strip() or not isinstance(name, str):
            raise PayloadError(f"event {i}: needs 'email' and 'event'")
        yield i, ev, email.strip(), name


def json_body(body: bytes) -> Any:
    """The body as JSON, or PayloadError saying why not."""
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8") from None
    except RecursionError:
        raise PayloadError("JSON nested too deeply") from None
    except ValueError as exc:
        raise PayloadError(f"the body is not valid JSON: {exc}") from None
