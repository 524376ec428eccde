"""Scale-out: two app processes and two Celery workers on PostgreSQL and Redis, all at once.

Clients append consents through both app processes while two cron runs hand monitoring jobs to
two workers. The ledger's sequence must stay gapless, every acknowledged event must be there
once, the ledger must verify, and each monitored asset must be audited exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from auditor.db import transaction
from auditor.monitoring import services as msvc
from auditor.monitoring.models import AuditResult
from auditor.services import services
from consent_ledger.schema import events as ledger_events
from tests.auditor.monitoring.conftest import DOMAIN, IP, monitoring, webhook  # noqa: F401 - fixtures
from tests.auditor.monitoring.test_celery import _wait_results, broker, workers  # noqa: F401 - fixtures
from tests.auditor.monitoring.test_cli import _cli_env
from tests.reliability.loadgen import json_request, run_load
from tests.reliability.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

APPENDS_PER_APP = 300
BATCH = 5
ASSETS = 10


def test_two_apps_and_two_workers_keep_the_ledger_gapless_and_run_each_job_once(
        monitoring, pg_url, broker, workers, make_user, tmp_path, figures):  # noqa: F811 - fixtures
    env = monitoring(pg_url, broker_url=broker)
    settings = services(env.app).settings
    _, key = make_user("scale@auditor.test", "sender", scopes=["consent:write"], target_app=env.app)
    with transaction(services(env.app).sessions) as s:
        ids = [msvc.add_asset(s, "domain", f"s{i}.{DOMAIN}", ips=[IP])[0].id for i in range(ASSETS)]

    cli_env = {**_cli_env(env, pg_url), "AUDITOR_BROKER_URL": broker}
    extra = {k: v for k, v in cli_env.items() if k.startswith("AUDITOR_") and k not in
             ("AUDITOR_INSTANCE_PATH", "AUDITOR_DATABASE_URL")}
    apps = [ServerProcess(settings.instance_path, pg_url, workers=1, threads=8, env=extra,
                          log=tmp_path / f"app{n}.log").start() for n in range(2)]
    workers(cli_env)
    workers(cli_env)

    acked: dict[int, list[str]] = {}

    def drive(n: int, server: ServerProcess) -> None:
        def make(i: int):
            return json_request("consents", "POST", "/api/v1/consents", {"events": [
                {"type": "granted", "subject": f"a{n}-{i}-{j}@example.org", "channel": "email",
                 "purpose": "marketing", "evidence": {"source_url": "https://shop.example/signup"}}
                for j in range(BATCH)]}, key)

        def on_ok(req, data: bytes):
            return [e["subject"] for e in json.loads(req[3])["events"]]

        acked[n] = run_load(server.base, make, count=APPENDS_PER_APP // BATCH,
                            concurrency=4, deadline_s=300, on_ok=on_ok)

    try:
        clients = [threading.Thread(target=drive, args=(n, srv)) for n, srv in enumerate(apps)]
        started = time.monotonic()
        for t in clients:
            t.start()
        crons = [subprocess.Popen([sys.executable, "-m", "auditor", "monitor", "run", "--due-only", "--json"],
                                  env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
        outs = [p.communicate(timeout=180) for p in crons]
        for t in clients:
            t.join(300)
        wall = time.monotonic() - started
        assert [p.returncode for p in crons] == [0, 0], [o[1][-2000:] for o in outs]
        assert _wait_results(env.app, ASSETS) == ASSETS
    finally:
        for srv in apps:
            srv.stop()

    results = [acked[n] for n in range(2)]
    for r in results:
        assert dict(r.statuses["consents"]) == {201: APPENDS_PER_APP // BATCH}, r.summary()
        assert r.connection_errors == 0
    subjects = [s for r in results for batch in r.acked for s in batch]
    assert len(subjects) == len(set(subjects)) == 2 * APPENDS_PER_APP

    # Gapless: the sequence is exactly 1..N, and every acknowledged subject is there once.
    from auditor.ledger.services import get_ledger

    services(env.app).extras.clear()
    ledger = get_ledger(env.app)
    with services(env.app).engine.connect() as c:
        seqs = c.execute(sa.select(ledger_events.c.seq).order_by(ledger_events.c.seq)).scalars().all()
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == len(subjects)
    states = ledger.current_states([ledger.pseudonym_of(s, "email") for s in subjects], "email", "marketing")
    assert len(states) == len(subjects)
    report = ledger.verify()
    assert report.ok, report

    enqueued = sorted(e["asset_id"] for o in outs for e in json.loads(o[0])["enqueued"])
    assert enqueued == sorted(ids)  # two cron runs split the due assets; none twice
    with services(env.app).sessions() as s:
        per_asset = dict(s.execute(sa.select(AuditResult.asset_id, sa.func.count())
                                   .group_by(AuditResult.asset_id)).all())
    assert per_asset == {i: 1 for i in ids}
    figures({"app_processes": 2, "celery_workers": 2, "appends_acked": len(subjects),
             "requests": sum(len(r.latencies["consents"]) for r in results), "ledger_size": len(seqs), "gapless": True,
             "verify_ok": report.ok, "assets": ASSETS, "audits_per_asset": 1, "wall_s": round(wall, 2)})
