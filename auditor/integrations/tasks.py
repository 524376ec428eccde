"""Jobs of integrations: process one inbox entry; sweep whatever is left unprocessed."""

from __future__ import annotations

from typing import Any

from flask import Flask

from auditor.integrations import services as svc
from auditor.jobs import job


@job("integrations.process")
def process(app: Flask, inbox_id: int) -> dict[str, Any]:
    """Process one webhook inbox entry (a no-op when it is done or held by another worker)."""
    return svc.process_entry(app, int(inbox_id)).to_dict()


@job("integrations.sweep")
def sweep(app: Flask, limit: int = 1000) -> dict[str, Any]:
    """Process entries still ``received`` (broker down, crash) or whose lease expired."""
    states: dict[str, int] = {}
    for inbox_id in svc.pending(app, limit):
        state = svc.process_entry(app, inbox_id).state
        states[state] = states.get(state, 0) + 1
    return states
