"""The reports' queries on PostgreSQL: a subject and a period report from the same activity."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.auditor.campaigns.loop import DOMAIN, SELECTOR, SENDER_IP, build_loop
from tests.conftest import Runner


def test_subject_and_period_reports_on_postgresql(make_app, make_user, dns_server, pg_url, tools, tmp_path):
    from auditor.monitoring.services import run_audit
    from auditor.reports.services import period_data

    loop = build_loop(make_app, make_user, dns_server, database_url=pg_url)
    loop.consented("pg@example.org")
    loop.consent("pg@example.org", "withdrawn", claimed_at=(datetime.now(UTC) - timedelta(seconds=30)).isoformat())
    run_audit(loop.app, DOMAIN, selectors=(SELECTOR,), ips=(SENDER_IP,))
    run_audit(loop.app, DOMAIN, selectors=(SELECTOR, "gone"), ips=(SENDER_IP,))
    today = datetime.now(UTC).date()

    data = period_data(loop.app, today, today)
    assert data.unsubscribes == 1 and len(data.unsubscribe_seconds) == 1
    assert any("DKIM-KEY-MISSING" in c.added for c in data.domain_changes)

    out = tmp_path / "s.pdf"
    assert Runner(loop.app).invoke(["report", "subject", "pg@example.org", "--out", str(out)]).exit_code == 0
    files = tools.attachments(out, tmp_path / "files")
    assert sorted(n for n in files if n.startswith("proof-")) == ["proof-seq-1.json", "proof-seq-2.json",
                                                                  "proof-seq-3.json"]
    proof = json.loads(files["proof-seq-3.json"].read_text())
    assert proof["event"]["type"] == "withdrawn"
    done = tools.verify(files["proof-seq-3.json"], files["public-key.pem"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
