"""The same monitoring jobs through Celery: real ``auditor worker`` processes on the local Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from auditor.db import transaction
from auditor.monitoring import services as svc
from auditor.monitoring.models import Alert, AuditResult
from auditor.services import services
from tests.auditor.monitoring.conftest import DOMAIN, IP, SELECTOR
from tests.auditor.monitoring.test_cli import _cli_env
from tests.conftest import Runner

WAIT_SECONDS = 90


@pytest.fixture
def broker(redis_url: str, worker_id: str) -> str:
    """A Redis database of this test process's own: parallel test processes never take each other's jobs."""
    index = int(worker_id[2:]) if worker_id.startswith("gw") else 0
    url = redis_url.rsplit("/", 1)[0] + f"/{1 + index % 14}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``auditor worker`` processes; each is stopped (and its log shown on failure) afterwards."""
    procs: list[tuple[subprocess.Popen, Path]] = []

    def start(env: dict[str, str]) -> subprocess.Popen:
        log = tmp_path / f"worker{len(procs)}.log"
        p = subprocess.Popen([sys.executable, "-m", "auditor", "worker", "--concurrency", "2"], env=env,
                             cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT)
        procs.append((p, log))
        return p

    yield start
    for p, log in procs:
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        print(f"--- {log.name}\n{log.read_text()[-3000:]}")


def _results(app) -> int:
    with services(app).sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditResult))


def _wait_results(app, count: int) -> int:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and _results(app) < count:
        time.sleep(0.2)
    return _results(app)


def _lose_dkim_and_alert_once(env, cli) -> None:
    """Unpublish the DKIM key, run the monitor: a second result is stored and one alert sent."""
    env.publish(dkim=False)
    assert cli.invoke(["monitor", "run", "--json"]).exit_code == 0
    assert _wait_results(env.app, 2) == 2
    bodies = env.hook.wait_for(1)
    assert len(bodies) == 1 and f"DKIM selector {SELECTOR} disappeared" in bodies[0]["json"]["text"]


def test_jobs_run_on_a_celery_worker_with_history_diffs_and_one_alert(monitoring, db_url, broker, workers):
    env = monitoring(db_url, broker_url=broker)
    cli = Runner(env.app)
    r = cli.invoke(["monitor", "add", "domain", DOMAIN, "--selector", SELECTOR, "--ip", IP, "--json"])
    assert r.exit_code == 0, r.output
    queued = json.loads(cli.invoke(["monitor", "run", "--due-only", "--json"]).stdout)
    assert queued["mode"] == "celery" and queued["results"] == [] and len(queued["enqueued"]) == 1
    assert _results(env.app) == 0  # nothing ran here: the job waits for a worker
    workers({**_cli_env(env, db_url), "AUDITOR_BROKER_URL": broker})
    assert _wait_results(env.app, 1) == 1

    _lose_dkim_and_alert_once(env, cli)

    assert cli.invoke(["monitor", "run", "--json"]).exit_code == 0  # unchanged: stored, not alerted
    assert _wait_results(env.app, 3) == 3
    with services(env.app).sessions() as s:
        rows = s.scalars(select(AuditResult).order_by(AuditResult.seq)).all()
        assert [(r.seq, r.changed, r.source) for r in rows] == [(1, False, "monitor"), (2, True, "monitor"),
                                                                 (3, False, "monitor")]
        assert s.scalar(select(func.count()).select_from(Alert)) == 1
    assert len(env.hook.wait_for(2, timeout=1)) == 1


def test_two_workers_and_two_cron_runs_audit_each_asset_once(monitoring, pg_url, broker, workers, tmp_path):
    env = monitoring(pg_url, broker_url=broker)
    with transaction(services(env.app).sessions) as s:
        ids = [svc.add_asset(s, "domain", f"d{i}.{DOMAIN}", ips=[IP])[0].id for i in range(12)]
    cli_env = {**_cli_env(env, pg_url), "AUDITOR_BROKER_URL": broker}
    workers(cli_env)
    workers(cli_env)
    runs = [subprocess.Popen([sys.executable, "-m", "auditor", "monitor", "run", "--due-only", "--json"],
                             env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], [o[1][-2000:] for o in outs]
    enqueued = [e["asset_id"] for o in outs for e in json.loads(o[0])["enqueued"]]
    assert sorted(enqueued) == sorted(ids)
    assert _wait_results(env.app, len(ids)) == len(ids)
    with services(env.app).sessions() as s:
        per_asset = dict(s.execute(select(AuditResult.asset_id, func.count()).group_by(AuditResult.asset_id)).all())
    assert per_asset == {i: 1 for i in ids}


def test_enqueue_runs_inline_without_a_broker_and_names_unknown_jobs(monitoring, sqlite_url):
    from auditor.jobs import JobError, enqueue

    env = monitoring(sqlite_url)
    with transaction(services(env.app).sessions) as s:
        asset_id = svc.add_asset(s, "ip", IP)[0].id
    done = enqueue("monitoring.audit_asset", app=env.app, asset_id=asset_id)
    assert done.inline and done.task_id is None and done.result["target"] == IP and done.result["baseline"]
    with pytest.raises(JobError, match="no job named"):
        enqueue("monitoring.nope", app=env.app)


def test_an_unreachable_broker_leaves_the_asset_due_for_the_next_run(monitoring, sqlite_url):
    env = monitoring(sqlite_url, broker_url="redis://127.0.0.1:1/0")
    with transaction(services(env.app).sessions) as s:
        asset_id = svc.add_asset(s, "domain", DOMAIN)[0].id
    cli = Runner(env.app)
    r = cli.invoke(["monitor", "run", "--due-only", "--json"])
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert report["claimed"] == [asset_id] and report["enqueued"] == []
    assert "not enqueued" in report["errors"][0]["error"]
    again = json.loads(cli.invoke(["monitor", "run", "--due-only", "--json"]).stdout)
    assert again["claimed"] == [asset_id]  # still due: claimed again by the next run


AMQP_URL = os.environ.get("AUDITOR_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def amqp_url() -> str:
    """The local RabbitMQ; fails with a clear message when it is down."""
    from kombu import Connection

    try:
        with Connection(AMQP_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any transport error means the server is down
        pytest.fail(f"RabbitMQ is not reachable at {AMQP_URL} ({exc}); start it with rabbitmq-server -detached",
                    pytrace=False)
    return AMQP_URL


def test_the_same_jobs_run_through_rabbitmq(monitoring, sqlite_url, amqp_url, workers):
    from auditor.jobs import celery_app

    env = monitoring(sqlite_url, broker_url=amqp_url)
    celery_app(env.app).control.purge()  # jobs left by an interrupted earlier run belong to other databases
    cli = Runner(env.app)
    assert cli.invoke(["monitor", "add", "domain", DOMAIN, "--selector", SELECTOR, "--json"]).exit_code == 0
    queued = json.loads(cli.invoke(["monitor", "run", "--due-only", "--json"]).stdout)
    assert queued["mode"] == "celery" and len(queued["enqueued"]) == 1
    workers({**_cli_env(env, sqlite_url), "AUDITOR_BROKER_URL": amqp_url})
    assert _wait_results(env.app, 1) == 1
    _lose_dkim_and_alert_once(env, cli)
