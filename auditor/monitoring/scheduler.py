"""The beat-free scheduler: claim due assets and run their audits inline or enqueue them.

``auditor monitor run --due-only`` from cron (every few minutes) is the whole scheduler: each run
claims what is due, and a claim succeeds for one caller only, so overlapping cron runs, several
hosts and several workers never audit an asset twice for the same slot.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from auditor.jobs import enqueue
from auditor.monitoring.services import claim_assets, deliver_alerts, release_claim
from auditor.services import services

INLINE_THREADS = 4


@dataclass
class RunReport:
    """What one scheduler run did."""

    mode: str
    claimed: list[int] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    enqueued: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    alerts_retried: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return {"mode": self.mode, "claimed": self.claimed, "results": self.results,
                "enqueued": self.enqueued, "errors": self.errors, "alerts_retried": self.alerts_retried}


def run_due(app: Flask, *, due_only: bool = True, asset_ids: list[int] | None = None) -> RunReport:
    """Retry undelivered alerts, claim assets, then audit them here or hand them to the workers."""
    inline = not services(app).settings.broker_url
    report = RunReport("inline" if inline else "celery")
    report.alerts_retried = deliver_alerts(app)
    report.claimed = claim_assets(app, due_only=due_only, asset_ids=asset_ids)
    if not inline:
        for asset_id in report.claimed:
            try:
                sent = enqueue("monitoring.audit_asset", app=app, asset_id=asset_id)
            except Exception as exc:  # noqa: BLE001 - broker down: give the slot back for the next run
                release_claim(app, asset_id)
                report.errors.append({"asset_id": asset_id, "error": f"not enqueued: {type(exc).__name__}: {exc}"})
                continue
            report.enqueued.append({"asset_id": asset_id, "task_id": sent.task_id})
        return report

    def one(asset_id: int) -> tuple[int, Any, str | None]:
        try:
            return asset_id, enqueue("monitoring.audit_asset", app=app, asset_id=asset_id).result, None
        except Exception as exc:  # noqa: BLE001 - one failing asset must not stop the others
            return asset_id, None, f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=INLINE_THREADS) as pool:
        for asset_id, result, error in pool.map(one, report.claimed):
            if error:
                report.errors.append({"asset_id": asset_id, "error": error})
            elif result is not None:
                report.results.append(result)
    return report
