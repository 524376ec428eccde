"""Load: several WSGI workers under a bounded mixed load of gate checks and consent appends."""

from __future__ import annotations

import pytest

from tests.auditor.campaigns.loop import build_loop
from tests.reliability.scenario import ledger_findings, mixed_load, prepare

pytestmark = pytest.mark.slow


def test_mixed_load_has_no_5xx_and_loses_no_event(backend_url, make_app, make_user, dns_server, figures):
    loop = build_loop(make_app, make_user, dns_server, database_url=backend_url)
    sc = prepare(loop, backend_url, recipients=2000, workers=2)
    try:
        result = mixed_load(sc, count=1500, concurrency=8, deadline_s=120)
    finally:
        sc.server.stop()
    summary = result.summary()
    found = ledger_findings(sc, result.acked)
    figures({"summary": summary, **found})
    assert summary["requests"] > 0 and result.connection_errors == 0
    assert summary["gate_check"]["errors_5xx"] == 0 and summary["consent_append"]["errors_5xx"] == 0
    assert set(summary["gate_check"]["statuses"]) == {200}
    assert set(summary["consent_append"]["statuses"]) == {201}
    assert found["bad_gate_bodies"] == 0
    assert found["found_appends"] == found["acked_appends"] > 0
    assert found["verify_ok"]
