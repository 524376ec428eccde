"""Periods of whole UTC days, as the API, the UI and the CLI take them (``from`` / ``to``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

DEFAULT_DAYS = 30
EARLIEST = date(1970, 1, 1)  # events carry Unix times: no earlier day holds any


def period(start: date | None, end: date | None, *, today: date | None = None,
           max_days: int | None = None) -> tuple[date, date]:
    """The inclusive period, by default the 30 days ending ``end`` (today); ValueError (its text
    names the problem) when reversed, before 1970 or longer than ``max_days``."""
    end = end or today or datetime.now(UTC).date()
    if end < EARLIEST or (start is not None and start < EARLIEST):
        raise ValueError(f"days before {EARLIEST.isoformat()} hold no events")
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValueError("from is after to")
    if max_days is not None and (end - start).days >= max_days:
        raise ValueError(f"the period is longer than {max_days} days")
    return start, end
