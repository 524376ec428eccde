"""Render a recorded report request in the background (inline or on Celery workers)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from auditor.jobs import job
from auditor.reports.services import ReportInputError, ReportNotFound, build_pdf, jobs_folder


@job("reports.render")
def render_report(app: Flask, job_id: str) -> dict[str, Any]:
    """Render the request ``<job_id>.json`` into ``<job_id>.pdf`` (atomically) or ``.err``."""
    folder = jobs_folder(app)
    request = folder / f"{job_id}.json"
    if not request.exists():  # another instance's job on a shared broker, or cleaned up
        return {"id": job_id, "status": "missing"}
    info = json.loads(request.read_text())
    try:
        pdf = build_pdf(app, info["kind"], info["params"], info["lang"], f"user:{info['owner']}")
    except (ReportNotFound, ReportInputError) as exc:
        (folder / f"{job_id}.err").write_text(str(exc))
        return {"id": job_id, "status": "failed", "error": str(exc)}
    tmp = folder / f"{job_id}.pdf.part"
    tmp.write_bytes(pdf)
    tmp.replace(folder / f"{job_id}.pdf")
    return {"id": job_id, "status": "done", "bytes": len(pdf)}
