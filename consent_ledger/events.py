"""What goes into the ledger and what comes out: events, evidence, states, reports."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from consent_ledger.identifiers import is_pseudonym, valid_channel

EVENT_TYPES = ("granted", "confirmed", "withdrawn")
ALL_TYPES = (*EVENT_TYPES, "erased")
FORMAT_VERSION = 2  # v2 seals personal evidence in ``personal`` (docs/ledger.md, "Event format versions")
# Personal evidence sealed under the subject's vault key in v2 events (crypto-shredded on erasure).
PERSONAL_FIELDS = ("evidence.ip", "evidence.user_agent", "reason")
CLOCK_SKEW_SECONDS = 300  # a claimed time this far ahead of the ledger's clock is still accepted
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,99}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_BADCHARS = re.compile("[\x00-\x1f\ud800-\udfff]")
_JURISDICTION = re.compile(r"^[A-Z]{2,3}(?:-[A-Z0-9]{1,8})?$")


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """How consent was collected (in the spirit of ISO/IEC TS 27560)."""

    source_url: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    notice_version: str | None = None
    notice_sha256: str | None = None
    separate_document: bool | None = None
    pre_ticked: bool | None = None
    bundled: bool | None = None


@dataclass(frozen=True, kw_only=True)
class EventIn:
    """One event to append; give ``subject`` (raw address or number) or ``pseudonym``."""

    type: str
    channel: str
    purpose: str
    subject: str | None = None
    pseudonym: str | None = None
    controller: str | None = None
    jurisdiction: str | None = None
    legal_basis: str | None = None
    method: str | None = None
    evidence: Evidence | None = None
    claimed_at: datetime | str | None = None
    expires_at: datetime | str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Appended:
    """An event that is durable in the ledger."""

    seq: int
    pseudonym: str
    leaf_hash: str
    recorded_at: str
    warning: str | None = None  # why the state machine left the consent as it was (still recorded)
    index: int | None = None  # the event's index in the items given to append


class ConsentState(NamedTuple):
    """The current consent of one pseudonym for one channel and purpose.

    A named tuple, not a dataclass: the gate builds one per recipient (100,000 in a call), and a
    tuple is five times cheaper to build than a frozen dataclass.
    """

    pseudonym: str
    channel: str
    purpose: str
    status: str
    confirmed: bool
    expires_at: datetime | None
    last_seq: int
    updated_at: datetime
    granted_at: datetime | None
    method: str | None
    evidence_complete: bool
    separate_document: bool | None
    pre_ticked: bool | None
    bundled: bool | None
    notice_version: str | None
    legal_basis: str | None = None


@dataclass
class VerifyReport:
    """The outcome of ``Ledger.verify``: ok, or the first bad seq and what is wrong."""

    ok: bool
    size: int
    first_bad_seq: int | None = None
    problem: str | None = None
    checkpoints_checked: int = 0
    projection_differences: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"ok": self.ok, "size": self.size, "first_bad_seq": self.first_bad_seq,
                "problem": self.problem, "checkpoints_checked": self.checkpoints_checked,
                "projection_differences": self.projection_differences}


class InvalidEvent(ValueError):
    """Events refused before anything was written; ``errors`` lists each by index and field."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(f"event {first['index']}: {first['field']}: {first['message']}"
                         + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with microseconds: 2026-11-22T10:00:00.000000Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> datetime | None:
    """The aware datetime of a stored RFC 3339 string."""
    return datetime.fromisoformat(value) if value else None


def _time(value: datetime | str | None, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Bad(name, "not an RFC 3339 date-time") from None
    if not isinstance(value, datetime):
        raise _Bad(name, "not a date-time")
    if value.tzinfo is None:
        raise _Bad(name, "a date-time needs a time zone (e.g. Z or +03:00)")
    return format_time(value)


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(name, "must be a string")
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise _Bad(name, f"longer than {limit} characters")
    if _BADCHARS.search(value):
        raise _Bad(name, "contains control characters")
    return value


def _flag(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _Bad(name, "must be true, false or null")


_IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$")


@lru_cache(maxsize=65536)
def _ip(value: str) -> str:
    if _IPV4.match(value):  # dotted quad without leading zeros: already the canonical form
        return value
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise _Bad("evidence.ip", "not an IP address") from None


def _notice(source_url: Any, notice_sha256: Any) -> tuple[str | None, str | None]:
    """The notice's source URL and SHA-256, normalised (shared by many events: remembered)."""
    sha = notice_sha256
    if sha is not None:
        sha = str(sha).strip().lower()
        if not _HEX64.match(sha):
            raise _Bad("evidence.notice_sha256", "not 64 hex characters")
    url = _text(source_url, "evidence.source_url", 2048)
    if url is not None and not url.lower().startswith(("https://", "http://", "urn:", "file:")):
        raise _Bad("evidence.source_url", "not an http(s) URL or URN")
    return url, sha


def evidence_dict(ev: Evidence | None) -> dict[str, Any]:
    """The evidence object as hashed (every key present; null when unknown).

    Fields are checked in a fixed order (IP, notice hash, URL, user agent, notice version,
    flags): the first bad one is the error reported.
    """
    ev = ev or Evidence()
    ip = None if ev.ip is None else _ip(str(ev.ip).strip())
    url, sha = _notice_memo(ev.source_url, ev.notice_sha256)
    return {
        "source_url": url, "ip": ip,
        "user_agent": None if ev.user_agent is None else _user_agent(ev.user_agent),
        "notice_version": None if ev.notice_version is None else _notice_version(ev.notice_version),
        "notice_sha256": sha,
        "separate_document": _flag(ev.separate_document, "evidence.separate_document"),
        "pre_ticked": _flag(ev.pre_ticked, "evidence.pre_ticked"),
        "bundled": _flag(ev.bundled, "evidence.bundled"),
    }


def _token(value: Any, name: str) -> str | None:
    if value is None:
        return None
    token = value.strip().lower() if isinstance(value, str) else ""
    if not _TOKEN.match(token):
        raise _Bad(name, "must be a short lower-case token such as 'consent' or 'web_form'")
    return token


_NO_EVIDENCE = {k: None for k in Evidence.__dataclass_fields__}
_MEMO_LIMIT = 65536  # entries per cache below; a full cache starts again empty


def _memo(fn: Any) -> Any:
    """``fn`` remembered by its arguments (only results: bad input raises each time).

    A consent base repeats a handful of channels, purposes, controllers, notice versions,
    source URLs and claimed times over millions of events; their normalisation is done once
    per distinct value instead of once per event.
    """
    cache: dict[tuple, Any] = {}

    def get(*key: Any) -> Any:
        try:
            return cache[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value: not cacheable, and bad anyway
            return fn(*key)
        value = fn(*key)
        if len(cache) >= _MEMO_LIMIT:
            cache.clear()
        cache[key] = value
        return value

    get.cache = cache  # type: ignore[attr-defined]
    return get


_notice_memo = _memo(_notice)
_user_agent = _memo(lambda value: _text(value, "evidence.user_agent", 1024))
_notice_version = _memo(lambda value: _text(value, "evidence.notice_version", 200))


def _head(type_: Any, channel: Any, purpose: Any, jurisdiction: Any, controller: Any, legal_basis: Any,
          method: Any) -> tuple:
    """The event's fields shared by many events, validated in the order errors are reported."""
    if type_ not in EVENT_TYPES:
        raise _Bad("type", f"must be one of {', '.join(EVENT_TYPES)}")
    wildcard_ok = type_ == "withdrawn"
    if not isinstance(channel, str) or not (valid_channel(channel) or (wildcard_ok and channel == "*")):
        raise _Bad("channel", "must be email, sms, voice, push or messenger:<name>"
                   + (" (or * to withdraw from every channel)" if wildcard_ok else ""))
    purpose = purpose.strip().lower() if isinstance(purpose, str) else ""
    if not (_TOKEN.match(purpose) or (wildcard_ok and purpose == "*")):
        raise _Bad("purpose", "must be a short lower-case token such as 'marketing'"
                   + (" (or * to withdraw from every purpose)" if wildcard_ok else ""))
    if jurisdiction is not None:
        jurisdiction = jurisdiction.strip().upper() if isinstance(jurisdiction, str) else ""
        if not _JURISDICTION.match(jurisdiction):
            raise _Bad("jurisdiction", "must be a code such as RU, EU, US or CA-QC")
    return (type_, channel, purpose, _text(controller, "controller", 300), jurisdiction,
            _token(legal_basis, "legal_basis"), _token(method, "method"))


_head_memo = _memo(_head)
_time_memo = _memo(_time)


def event_body(e: EventIn) -> dict[str, Any]:
    """Validated, normalised fields of an event (without seq, pseudonym, recorded_at, actor).

    A withdrawal may name ``*`` as channel and/or purpose: an objection to all direct marketing
    (38-FZ art. 18 p. 1, 152-FZ art. 15 p. 2, GDPR art. 21(2)-(3)).
    """
    type_, channel, purpose, controller, jurisdiction, legal_basis, method = _head_memo(
        e.type, e.channel, e.purpose, e.jurisdiction, e.controller, e.legal_basis, e.method)
    claimed, expires = e.claimed_at, e.expires_at
    return {
        "type": type_, "channel": channel, "purpose": purpose,
        "controller": controller,
        "jurisdiction": jurisdiction,
        "legal_basis": legal_basis,
        "method": method,
        "evidence": evidence_dict(e.evidence) if e.evidence is not None else dict(_NO_EVIDENCE),
        "claimed_at": None if claimed is None else (_time_memo(claimed, "claimed_at") if isinstance(claimed, str)
                                                   else _time(claimed, "claimed_at")),
        "expires_at": None if expires is None else (_time_memo(expires, "expires_at") if isinstance(expires, str)
                                                   else _time(expires, "expires_at")),
        "reason": _text(e.reason, "reason", 500),
        "personal": None,
    }


def claimed_in_future(claimed_at: str | None, now: datetime) -> bool:
    """True when a formatted claimed time lies beyond the allowed clock skew after ``now``."""
    if claimed_at is None:
        return False
    return (datetime.fromisoformat(claimed_at) - now).total_seconds() > CLOCK_SKEW_SECONDS


def check_pseudonym(value: Any) -> str:
    """A given pseudonym, checked to be 64 lower-case hex characters."""
    if not isinstance(value, str) or not is_pseudonym(value):
        raise _Bad("pseudonym", "must be 64 lower-case hex characters")
    return value
