"""File imports into an integration: each row becomes a provider event, processed like a webhook's."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask

from auditor.db import transaction
from auditor.integrations import services as svc
from auditor.integrations.models import InboxEntry, Integration
from auditor.services import services
from checks.providers import ProviderEvent
from checks.providers.files import read_export
from consent_ledger.identifiers import InvalidIdentifier, normalise_identifier

BATCH = 1000


@dataclass
class ImportReport:
    """What an import did: rows read, events stored, consequences, and the bad rows by line."""

    rows: int = 0
    events: int = 0
    skipped: int = 0
    withdrawn: int = 0
    hard_bounces: int = 0
    bad: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rows": self.rows, "events": self.events, "skipped": self.skipped, "withdrawn": self.withdrawn,
                "hard_bounces": self.hard_bounces, "bad_rows": len(self.bad), "bad": self.bad[:1000]}


def run_import(app: Flask, integration: Integration, stream: IO[str], *,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Read an export file into the integration; good rows are kept when others are bad."""
    report = ImportReport()
    entry_id = _entry(app, integration)
    batch: list[ProviderEvent] = []

    def flush() -> None:
        if batch:
            done = svc.ingest(app, integration, batch, entry_id)
            report.withdrawn += done.withdrawn
            report.hard_bounces += done.hard_bounces
            batch.clear()

    for line, event, problem in read_export(integration.provider, stream, integration.mapping):
        report.rows += 1
        if progress:
            progress(1)
        if problem:
            report.bad.append({"line": line, "reason": problem})
            continue
        if event is None:
            report.skipped += 1
            continue
        try:
            normalise_identifier(event.recipient, integration.channel)
        except InvalidIdentifier as exc:
            report.bad.append({"line": line, "reason": str(exc)})
            continue
        report.events += 1
        batch.append(event)
        if len(batch) >= BATCH:
            flush()
    flush()
    with transaction(services(app).sessions) as s:
        row = s.get(InboxEntry, entry_id)
        row.state, row.events, row.processed_at = "processed", report.events, datetime.now(UTC)
        row.error = f"file import: {len(report.bad)} bad row(s)" if report.bad else "file import"
    return report


def _entry(app: Flask, integration: Integration) -> int:
    """An inbox entry that stands for this import (it claims the import's events)."""
    now = datetime.now(UTC)
    with transaction(services(app).sessions) as s:
        row = InboxEntry(integration_id=integration.id, body=None, events=0, state="processing", attempts=1,
                         body_sha256=hashlib.sha256(f"import:{now.isoformat()}:{id(now)}".encode()).hexdigest(),
                         received_at=now)
        s.add(row)
        s.flush()
        return row.id
