"""Suppression and unsubscribe exports (CSV) of the ESPs, and CRM exports through a column mapping.

``read_export`` yields ``(line number, ProviderEvent | None, problem | None)`` per data row: an
event, a problem that makes the row bad, or neither (a row the file holds but that says nothing
to act on, such as a CRM contact without a "do not send" flag).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import IO, Any

from checks.providers import KINDS, PayloadError, ProviderEvent, content_id, short

Row = tuple[int, ProviderEvent | None, str | None]

# UniOne suppression causes; SendGrid/Mailchimp/SendPulse exports are told apart by their columns.
_UNISENDER_CAUSES = {"unsubscribed": "unsubscribe", "complained": "complaint",
                     "permanent_unavailable": "hard_bounce", "temporary_unavailable": "soft_bounce"}


class MappingError(ValueError):
    """The column mapping file is unusable; the message says what to fix."""


def _time(value: str | None, fmt: str | None = None, tz: timezone = UTC) -> datetime | None:
    """A time from Unix seconds, ISO 8601, ``YYYY-MM-DD HH:MM:SS`` or ``fmt``; naive times are ``tz``."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        ts = datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise PayloadError(f"not a date-time: {value!r}") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=tz)


def _get(row: dict[str, str], *names: str) -> str:
    lowered = {(k or "").strip().lower(): v for k, v in row.items()}
    for n in names:
        v = lowered.get(n.lower())
        if v is not None and str(v).strip():
            return str(v).strip()
    return ""


def _provider_kind(provider: str, row: dict[str, str], columns: set[str]) -> tuple[str, str | None, str]:
    """(kind, reason, time text) of one row of a provider's own export."""
    if provider == "sendgrid":
        if "ip" in columns:
            return "complaint", None, _get(row, "created", "created_at")
        if "status" in columns:
            status = _get(row, "status")
            kind = "soft_bounce" if status.startswith("4") else "hard_bounce"
            return kind, short(f"{status} {_get(row, 'reason')}".strip()), _get(row, "created", "created_at")
        return "unsubscribe", None, _get(row, "created", "created_at")
    if provider == "mailchimp":
        if "clean_time" in columns:
            return "hard_bounce", short(_get(row, "clean_campaign_title")), _get(row, "clean_time")
        return "unsubscribe", short(_get(row, "unsub_reason")), _get(row, "unsub_time", "optin_time")
    if provider == "unisender":
        cause = _get(row, "cause").lower()
        return _UNISENDER_CAUSES.get(cause, "unsubscribe"), short(cause or None), _get(row, "created")
    return "unsubscribe", short(_get(row, "reason")), _get(row, "date", "created", "unsubscribed_at")


def read_export(provider: str, stream: IO[str], mapping: dict[str, Any] | None = None) -> Iterator[Row]:
    """The rows of an export file of ``provider`` (``csv``: through ``mapping``)."""
    if provider == "csv":
        yield from _read_mapped(stream, check_mapping(mapping))
        return
    reader = csv.DictReader(stream)
    columns = {(c or "").strip().lower() for c in reader.fieldnames or []}
    for row in reader:
        line = reader.line_num
        email = _get(row, "email", "email address", "e-mail")
        if not email:
            yield line, None, "no email address"
            continue
        kind, reason, when = _provider_kind(provider, row, columns)
        try:
            at = _time(when)
        except PayloadError as exc:
            yield line, None, str(exc)
            continue
        yield line, ProviderEvent(kind=kind, provider_type=f"export:{kind}", recipient=email,
                                  event_id="file:" + content_id([provider, kind, email, when])[2:],
                                  occurred_at=at or datetime.now(UTC), reason=reason), None


def check_mapping(mapping: Any) -> dict[str, Any]:
    """A mapping as read from YAML, checked: address or phone column, event column and values."""
    if not isinstance(mapping, dict):
        raise MappingError("the mapping must be a YAML mapping (address:, event:, ...)")
    if not (mapping.get("address") or mapping.get("phone")):
        raise MappingError("the mapping needs 'address' (or 'phone'): the column holding the identifier")
    event = mapping.get("event")
    if isinstance(event, str):
        event = {"kind": event}
    if not isinstance(event, dict) or not (event.get("kind") or (event.get("column") and event.get("values"))):
        raise MappingError("the mapping needs 'event': a fixed 'kind', or a 'column' with 'values' {cell: kind}")
    values = event.get("values") or {}
    kinds = [event.get("kind")] if event.get("kind") else list(values.values())
    bad = [k for k in kinds if k not in KINDS and k != "skip"]
    if bad:
        raise MappingError(f"unknown event kind(s) {', '.join(map(str, bad))}; use {', '.join(KINDS)} or skip")
    tz = mapping.get("timezone", "+00:00")
    try:
        offset = datetime.fromisoformat(f"2000-01-01T00:00:00{tz}").utcoffset() if tz not in ("UTC", "Z") else None
    except ValueError:
        raise MappingError(f"timezone: not an offset such as +03:00: {tz!r}") from None
    return {**mapping, "event": {**event, "values": {str(k).strip(): v for k, v in values.items()}},
            "_tz": timezone(offset or timedelta(0))}


def _read_mapped(stream: IO[str], m: dict[str, Any]) -> Iterator[Row]:
    reader = csv.DictReader(stream, delimiter=str(m.get("delimiter", ",")))
    column = m.get("address") or m.get("phone")
    if column not in (reader.fieldnames or []):
        raise MappingError(f"the file has no column {column!r}")
    event = m["event"]
    for row in reader:
        line = reader.line_num
        if event.get("kind"):
            kind = event["kind"]
        else:
            kind = event["values"].get(str(row.get(event["column"]) or "").strip(), event.get("default", "skip"))
        if kind == "skip":
            yield line, None, None
            continue
        ident = str(row.get(column) or "").strip()
        if not ident:
            yield line, None, f"empty {column!r}"
            continue
        try:
            at = _time(row.get(m["time"]), m.get("time_format"), m["_tz"]) if m.get("time") else None
        except PayloadError as exc:
            yield line, None, f"{m['time']}: {exc}"
            continue
        ref = str(row.get(m["id"]) or "").strip() if m.get("id") else ""
        yield line, ProviderEvent(
            kind=kind, provider_type=f"import:{kind}", recipient=ident,
            event_id=("file:" + ref) if ref else "file:" + content_id([kind, ident, str(row.get(m.get("time") or "", ""))])[2:],
            occurred_at=at or datetime.now(UTC), reason=short(row.get(m["reason"])) if m.get("reason") else None), None
