"""The period report: campaigns, top findings, unsubscribes and posture changes of real activity."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta

import pytest

from tests.auditor.campaigns.loop import DOMAIN, SELECTOR, SENDER_IP
from tests.conftest import Runner


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_period_report_counts_what_happened_in_the_period(loop, tools, tmp_path, lang):
    from auditor.monitoring.services import run_audit
    from auditor.reports.services import period_data

    loop.consented("x@example.org")
    loop.consented("y@example.org")
    claimed = (datetime.now(UTC) - timedelta(seconds=90)).isoformat()
    loop.consent("x@example.org", "withdrawn", claimed_at=claimed)
    loop.consent("y@example.org", "withdrawn", claimed_at=claimed)
    run_audit(loop.app, DOMAIN, selectors=(SELECTOR,), ips=(SENDER_IP,))
    run_audit(loop.app, DOMAIN, selectors=(SELECTOR, "gone"), ips=(SENDER_IP,))
    statuses = {}
    if importlib.util.find_spec("checks.rules"):
        from tests.auditor.campaigns.loop import campaign_doc

        for name in ("one", "two"):
            r = loop.submit(campaign_doc(["x@example.org"], name=name))
            assert r.status_code == 201, r.get_data(as_text=True)
            statuses[r.json["id"]] = r.json["status"]

    today = datetime.now(UTC).date()
    data = period_data(loop.app, today - timedelta(days=6), today)
    assert data.unsubscribes == 2
    assert len(data.unsubscribe_seconds) == 2 and all(80 <= s < 600 for s in data.unsubscribe_seconds)
    assert data.campaigns == len(statuses)
    assert [c.added for c in data.domain_changes if "DKIM-KEY-MISSING" in c.added]

    out = tmp_path / "p.pdf"
    res = Runner(loop.app).invoke(["report", "period", "--from", (today - timedelta(days=6)).isoformat(),
                                   "--to", today.isoformat(), "--out", str(out), "--lang", lang])
    assert res.exit_code == 0, res.output
    flat = " ".join(tools.text(out).split())
    label = "Withdrawals recorded" if lang == "en" else "Записано отзывов согласия"
    assert f"{label} 2" in flat
    assert "DKIM-KEY-MISSING" in flat and DOMAIN in flat
    audited = "Campaigns audited" if lang == "en" else "Проверено рассылок"
    assert f"{audited} {len(statuses)}" in flat


def test_period_report_with_the_end_before_the_start_is_refused(loop, tmp_path):
    res = Runner(loop.app).invoke(["report", "period", "--from", "2026-11-10", "--to", "2026-11-01",
                                   "--out", str(tmp_path / "p.pdf")])
    assert res.exit_code == 2 and "before" in res.output
