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


def evidence_dict(ev: Evidence | None) -> dict[str, Any]:
    """The evidence object as hashed (every key present; null when unknown)."""
    ev = ev or Evidence()
    ip = None if ev.ip is None else _ip(str(ev.ip).strip())
    sha = ev.notice_sha256
    if sha is not None:
        sha = str(sha).strip().lower()
        if not _HEX64.match(sha):
            raise _Bad("evidence.notice_sha256", "not 64 hex characters")
    url = _text(ev.source_url, "evidence.source_url", 2048)
    if url is not None and not url.lower().startswith(("https://", "http://", "urn:", "file:")):
        raise _Bad("evidence.source_url", "not an http(s) URL or URN")
    return {
        "source_url": url, "ip": ip,
        "user_agent": _text(ev.user_agent, "evidence.user_agent", 1024),
        "notice_version": _text(ev.notice_version, "evidence.notice_version", 200),
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


def event_body(e: EventIn) -> dict[str, Any]:
    """Validated, normalised fields of an event (without seq, pseudonym, recorded_at, actor).

    A withdrawal may name ``*`` as channel and/or purpose: an objection to all direct marketing
    (38-FZ art. 18 p. 1, 152-FZ art. 15 p. 2, GDPR art. 21(2)-(3)).
    """
    if e.type not in EVENT_TYPES:
        raise _Bad("type", f"must be one of {', '.join(EVENT_TYPES)}")
    channel = e.channel
    wildcard_ok = e.type == "withdrawn"
    if not isinstance(channel, str) or not (valid_channel(channel) or (wildcard_ok and channel == "*")):
        raise _Bad("channel", "must be email, sms, voice, push or messenger:<name>"
                   + (" (or * to withdraw from every channel)" if wildcard_ok else ""))
    purpose = e.purpose.strip().lower() if isinstance(e.purpose, str) else ""
    if not (_TOKEN.match(purpose) or (wildcard_ok and purpose == "*")):
        raise _Bad("purpose", "must be a short lower-case token such as 'marketing'"
                   + (" (or * to withdraw from every purpose)" if wildcard_ok else ""))
    jurisdiction = e.jurisdiction
    if jurisdiction is not None:
        jurisdiction = jurisdiction.strip().upper() if isinstance(jurisdiction, str) else ""
        if not _JURISDICTION.match(jurisdiction):
            raise _Bad("jurisdiction", "must be a code such as RU, EU, US or CA-QC")
    return {
        "type": e.type, "channel": channel, "purpose": purpose,
        "controller": _text(e.controller, "controller", 300),
        "jurisdiction": jurisdiction,
        "legal_basis": _token(e.legal_basis, "legal_basis"),
        "method": _token(e.method, "method"),
        "evidence": evidence_dict(e.evidence) if e.evidence is not None else dict(_NO_EVIDENCE),
        "claimed_at": _time(e.claimed_at, "claimed_at"),
        "expires_at": _time(e.expires_at, "expires_at"),
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
