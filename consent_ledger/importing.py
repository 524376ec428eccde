"""Streaming import of consent events from CSV or JSON Lines, in constant memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from consent_ledger.events import EventIn, Evidence

EVIDENCE_FIELDS = ("source_url", "ip", "user_agent", "notice_version", "notice_sha256",
                   "separate_document", "pre_ticked", "bundled")
EVENT_FIELDS = ("type", "subject", "pseudonym", "channel", "purpose", "controller", "jurisdiction",
                "legal_basis", "method", "claimed_at", "expires_at", "reason")
COLUMNS = EVENT_FIELDS + EVIDENCE_FIELDS
REQUIRED = ("type", "channel", "purpose")
_ALLOWED = frozenset((*COLUMNS, "evidence"))
_EVIDENCE = frozenset(EVIDENCE_FIELDS)
_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False, "": None}


class UnusableInput(ValueError):
    """The file cannot be imported at all (wrong header, not CSV/JSONL); says why."""


@dataclass
class Row:
    """One input record: its line number, and the event or why it is bad."""

    line: int
    event: EventIn | None
    error: str | None = None
    record: dict[str, Any] | None = None  # read_csv(raw=True): the columns, not yet an event


def _flag(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    try:
        return _FLAGS[str(value).strip().lower()]
    except KeyError:
        raise ValueError(f"{name}: not true/false") from None


def event_from_mapping(data: dict[str, Any]) -> EventIn:
    """An EventIn from flat CSV columns or an API-shaped object (``evidence`` nested or flat)."""
    if not data.keys() <= _ALLOWED:
        raise ValueError(f"unknown field(s): {', '.join(sorted(set(data) - _ALLOWED))}")
    nested = data.get("evidence") or {}
    if not isinstance(nested, dict):
        raise ValueError("evidence: not an object")
    if not nested.keys() <= _EVIDENCE:
        raise ValueError(f"unknown evidence field(s): {', '.join(sorted(set(nested) - _EVIDENCE))}")
    ev = {k: (nested.get(k) if k in nested else data.get(k)) for k in EVIDENCE_FIELDS}
    for k in ("separate_document", "pre_ticked", "bundled"):
        ev[k] = _flag(ev[k], k)
    ev = {k: (None if v == "" else v) for k, v in ev.items()}
    fields = {k: (None if data.get(k) == "" else data.get(k)) for k in EVENT_FIELDS}
    for k in REQUIRED:
        if not fields[k]:
            raise ValueError(f"{k}: missing")
    for k, v in fields.items():
        if v is not None and not isinstance(v, str):
            raise ValueError(f"{k}: not a string")
    evidence = Evidence(**ev) if any(v is not None for v in ev.values()) else None
    return EventIn(**fields, evidence=evidence)


def read_csv(stream: IO[str], raw: bool = False) -> Iterator[Row]:
    """Rows of a CSV file with a header of COLUMNS (any order, any subset with the required).

    ``raw``: each good row carries its ``record`` for ``event_from_mapping`` (the bulk import
    does that in its worker processes).
    """
    # csv.reader and one zip per row: what csv.DictReader does, without its Python-level __next__.
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UnusableInput(f"the CSV header row cannot be read ({exc})") from None
    if not header:
        raise UnusableInput("the CSV file is empty (no header row)")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise UnusableInput(f"unknown CSV column(s): {', '.join(unknown)}; expected {', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED if c not in header]
    if missing or ("subject" not in header and "pseudonym" not in header):
        raise UnusableInput(f"the CSV header lacks {', '.join(missing) or 'subject or pseudonym'}")
    width = len(header)
    while True:
        try:
            values = next(reader)
            while not values:  # a blank line is no row
                values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # A broken line (a stray carriage return, an unterminated quote) is one bad row;
            # the reader goes on with the next line.
            yield Row(reader.line_num, None, f"unreadable CSV: {exc}")
            continue
        line = reader.line_num
        if len(values) > width:
            yield Row(line, None, "more fields than the header has")
            continue
        record = dict(zip(header, values, strict=False))  # a short row: its missing columns read as empty
        if raw:
            yield Row(line, None, record=record)
            continue
        try:
            yield Row(line, event_from_mapping(record))
        except ValueError as exc:
            yield Row(line, None, str(exc))


def read_jsonl(stream: IO[str]) -> Iterator[Row]:
    """Rows of a JSON Lines file: one event object per line, blank lines skipped."""
    for line, text in enumerate(stream, 1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, RecursionError):
                exc = ValueError("nested too deeply")
            if line == 1:
                raise UnusableInput(f"line 1 is not JSON ({exc}); is this a JSON Lines file?") from None
            yield Row(line, None, f"not JSON: {exc}")
            continue
        if not isinstance(data, dict):
            yield Row(line, None, "not a JSON object")
            continue
        try:
            yield Row(line, event_from_mapping(data))
        except (ValueError, TypeError) as exc:
            yield Row(line, None, str(exc))


def read_rows(stream: IO[str], fmt: str, raw: bool = False) -> Iterator[Row]:
    """Rows of ``stream`` in ``csv`` or ``jsonl`` format (``raw``: see read_csv)."""
    if fmt == "csv":
        return read_csv(stream, raw)
    if fmt == "jsonl":
        return read_jsonl(stream)
    raise UnusableInput(f"unknown format {fmt!r}")
