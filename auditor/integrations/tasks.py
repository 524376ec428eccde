"""Jobs of integrations: drain the inbox; process one inbox entry; sweep whatever is left unprocessed."""

from __future__ import annotations

from typing import Any

from flask import Flask

from auditor.integrations import services as svc
from auditor.jobs import job, job_started

DRAIN = "integrations.drain"


@job(DRAIN)
def drain(app: Flask, limit: int = 1000) -> dict[str, Any]:
    """Process every entry left to process until none is left (the receivers ask for this job after
    each accepted request, one queued at a time: ``auditor.jobs.request_job``)."""
    job_started(app, DRAIN)  # a request accepted from now on asks for another drain
    return svc.process_pending(app, limit, until_empty=True)


@job("integrations.process")
def process(app: Flask, inbox_id: int) -> dict[str, Any]:
    """Process one webhook inbox entry (a no-op when it is done or held by another worker)."""
    return svc.process_entry(app, int(inbox_id)).to_dict()


@job("integrations.sweep")
def sweep(app: Flask, limit: int = 1000) -> dict[str, Any]:
    """Process entries still ``received`` (broker down, crash) or whose lease expired."""
    return svc.process_pending(app, limit)
