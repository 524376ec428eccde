"""Background jobs of monitoring (run inline or on Celery workers through ``auditor.jobs``)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from auditor.jobs import job
from auditor.monitoring.services import public_summary, run_asset


@job("monitoring.audit_asset")
def audit_asset(app: Flask, asset_id: int) -> dict[str, Any] | None:
    """Audit one claimed asset: store the result, record the changes, alert on change."""
    outcome = run_asset(app, asset_id)
    if outcome is None:
        return None
    return {"asset_id": asset_id, "target": outcome.audit.target, "result_id": outcome.result_id,
            "baseline": outcome.baseline, "changes": [c.to_dict() for c in outcome.changes],
            "alerts": outcome.alerts, "summary": public_summary(outcome.summary, listed=False)}


@job("monitoring.run_due")
def run_due_assets(app: Flask, due_only: bool = True) -> dict[str, Any]:
    """Claim the due assets and enqueue one audit each (for a Celery beat entry, if one is wanted)."""
    from auditor.monitoring.scheduler import run_due

    return run_due(app, due_only=due_only).to_dict()
