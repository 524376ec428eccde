"""Import a Google Postmaster Tools export (CSV: a date column and the user-reported spam rate)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auditor.delivery.models import DomainSpamRate

SOURCE = "postmaster tools"


class PostmasterError(ValueError):
    """The file is not a Postmaster Tools export; the message says why."""


@dataclass
class Imported:
    """What an import stored, and the rows it could not read (line numbers)."""

    days: int = 0
    bad_lines: list[int] = field(default_factory=list)


def _rate(text: str) -> float:
    text = text.strip()
    value = float(text.rstrip("%")) / 100 if text.endswith("%") else float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


def _day(text: str) -> date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def import_csv(session: Session, domain: str, text: str) -> Imported:
    """Store each day's spam rate of ``domain`` (a day imported again is replaced)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise PostmasterError("the file is empty")
    head = [h.strip().lower() for h in rows[0]]
    date_col = next((i for i, h in enumerate(head) if h in ("date", "day", "дата")), None)
    rate_col = next((i for i, h in enumerate(head) if "spam" in h or "спам" in h), None)
    if date_col is None or rate_col is None:
        raise PostmasterError("needs a Date column and a spam rate column (e.g. 'User Reported Spam Rate')")
    out = Imported()
    now = datetime.now(UTC)
    table = DomainSpamRate.__table__
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        try:
            day, rate = _day(row[date_col]), _rate(row[rate_col])
        except (ValueError, IndexError):
            out.bad_lines.append(line)
            continue
        session.execute(sa.delete(table).where(table.c.domain == domain, table.c.day == day,
                                               table.c.source == SOURCE))
        session.execute(sa.insert(table).values(domain=domain, day=day, source=SOURCE, rate=rate, imported_at=now))
        out.days += 1
    return out


def domain_rate(session: Session, domain: str, start: date, end: date) -> dict | None:
    """The mean daily Postmaster rate of ``domain`` over ``start``..``end``, or None without data."""
    t = DomainSpamRate.__table__
    n, mean = session.execute(sa.select(sa.func.count(), sa.func.avg(t.c.rate)).where(
        t.c.domain == domain, t.c.source == SOURCE, t.c.day >= start, t.c.day <= end)).one()
    if not n:
        return None
    return {"rate": round(float(mean), 6), "source": SOURCE, "days": int(n), "start": start.isoformat(),
            "end": end.isoformat()}
