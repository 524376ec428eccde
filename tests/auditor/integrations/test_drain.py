"""With a broker, the receivers answer once the batch is durable and ask for one "drain the inbox"
job for a burst of requests (a flag in Redis while one is queued, cleared when it starts); the
drain processes every pending entry exactly once. On Redis, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time

import pytest
import redis

from auditor.integrations import services as svc
from auditor.integrations.tasks import DRAIN, drain
from auditor.jobs import _pending_flag
from tests.auditor.campaigns.loop import build_loop
from tests.auditor.integrations.conftest import PEOPLE, build_hooks


def _batch(n: int, people: list[str] | None = None) -> bytes:
    """A SendGrid batch: two delivery events, and an unsubscribe of each of ``people``."""
    events = [{"email": f"r{n}-{k}@example.org", "timestamp": 1796029200 + n, "event": "delivered",
               "sg_event_id": f"drain-{n}-{k}"} for k in range(2)]
    events += [{"email": p, "timestamp": 1796029300 + n, "event": "unsubscribe", "sg_event_id": f"drain-u-{n}-{p}"}
               for p in people or []]
    return json.dumps(events).encode()


def _queued(client: redis.Redis) -> list[str]:
    """The task names waiting in Celery's default queue."""
    return [json.loads(m)["headers"]["task"] for m in client.lrange("celery", 0, -1)]


def _wait_queued(client: redis.Redis, n: int) -> list[str]:
    deadline = time.monotonic() + 10
    while len(_queued(client)) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # and nothing more arrives
    return _queued(client)


@pytest.fixture(params=["sqlite", "postgres"])
def broker_hooks(request, make_app, make_user, dns_server, redis_url):
    settings = {"broker_url": redis_url}
    if request.param == "postgres":
        settings["database_url"] = request.getfixturevalue("pg_url")
    return build_hooks(build_loop(make_app, make_user, dns_server, **settings)), redis.Redis.from_url(redis_url)


def test_a_burst_asks_for_one_drain_which_processes_every_entry_once(broker_hooks):
    h, client = broker_hooks
    answers = [h.post("sendgrid", _batch(n, PEOPLE[:2] if n in (3, 7) else None)) for n in range(20)]
    assert [(r.status_code, r.json["state"]) for r in answers] == [(200, "received")] * 20
    assert h.count("webhook_inbox", "state = 'received'") == 20  # durable before the 2xx, not processed
    assert _wait_queued(client, 1) == [DRAIN]  # twenty requests, one job: it is queued and not started
    assert client.get(_pending_flag(DRAIN)) is not None

    assert drain(h.loop.app) == {"processed": 20}
    assert client.get(_pending_flag(DRAIN)) is None  # started: the next request asks again
    assert h.count("webhook_inbox", "state = 'processed' AND body IS NULL") == 20
    assert h.count("delivery_events", "provider_event_id LIKE 'drain-%'") == 44
    assert [len(h.withdrawals(p)) for p in PEOPLE[:2]] == [1, 1]  # unsubscribed twice, withdrawn once
    assert h.gate() == {p: "CONSENT-WITHDRAWN" if p in PEOPLE[:2] else "allowed" for p in PEOPLE}

    # a request after the drain started asks for another; a replayed body asks for nothing new
    assert h.post("sendgrid", _batch(100)).json["state"] == "received"
    assert h.post("sendgrid", _batch(3, PEOPLE[:2])).json["duplicate"] is True
    assert _wait_queued(client, 2) == [DRAIN, DRAIN]
    assert drain(h.loop.app) == {"processed": 1}
    assert drain(h.loop.app) == {}  # nothing left: the queued extra drain is a no-op
    assert [len(h.withdrawals(p)) for p in PEOPLE[:2]] == [1, 1]


def test_two_drains_at_once_process_each_entry_once(broker_hooks):
    h, _client = broker_hooks
    for n in range(12):
        assert h.post("sendgrid", _batch(n, PEOPLE if n % 4 == 0 else None)).status_code == 200
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(drain(h.loop.app))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2 and not any(r.get("failed") for r in results)
    drain(h.loop.app)  # what the next request's drain does: an entry that failed under contention is retried
    assert h.count("webhook_inbox", "state = 'processed'") == 12
    assert h.count("delivery_events", "provider_event_id LIKE 'drain-%'") == 24 + 3 * len(PEOPLE)
    assert [len(h.withdrawals(p)) for p in PEOPLE] == [1] * len(PEOPLE)


def test_a_drain_tries_a_failing_entry_once_and_leaves_it_for_later(broker_hooks, monkeypatch):
    h, _client = broker_hooks
    for n in range(3):
        assert h.post("sendgrid", _batch(n)).status_code == 200
    real = svc.ingest
    ids = sorted(svc.pending(h.loop.app))

    def ingest(app, integration, events, inbox_id, **kw):
        if inbox_id == ids[1]:  # the second of the three entries fails
            raise RuntimeError("the database went away")
        return real(app, integration, events, inbox_id, **kw)

    monkeypatch.setattr(svc, "ingest", ingest)
    assert drain(h.loop.app) == {"processed": 2, "received": 1}  # tried once, not in a loop
    assert svc.pending(h.loop.app) == [ids[1]]
    monkeypatch.setattr(svc, "ingest", real)
    assert drain(h.loop.app) == {"processed": 1}  # the next drain retries it


def test_the_drain_pages_through_more_entries_than_its_page(broker_hooks):
    h, _client = broker_hooks
    for n in range(7):
        assert h.post("sendgrid", _batch(n)).status_code == 200
    assert drain(h.loop.app, limit=3) == {"processed": 7}
    assert svc.pending(h.loop.app) == []


def test_a_drain_asked_for_while_the_broker_is_down_is_sent_when_it_is_back(make_app, make_user, dns_server, tmp_path):
    """The 2xx does not wait for the broker, so the ask must not be lost with it: the sender
    thread asks again (backing off) until the broker answers, and the durable entry is drained."""
    import shutil
    import socket
    import subprocess

    server_bin = shutil.which("redis-server")
    if server_bin is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    h = build_hooks(build_loop(make_app, make_user, dns_server, broker_url=url))
    answer = h.post("sendgrid", _batch(1, PEOPLE[:1]))
    assert (answer.status_code, answer.json["state"]) == (200, "received")  # durable; the broker is down
    time.sleep(0.3)  # the sender thread has failed at least once by now
    proc = subprocess.Popen([server_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _queued(client) == [DRAIN]:
                    break
            except redis.ConnectionError:
                pass
            time.sleep(0.1)
        assert _queued(client) == [DRAIN]  # asked again once the broker was back
        assert drain(h.loop.app) == {"processed": 1}
        assert h.gate()[PEOPLE[0]] == "CONSENT-WITHDRAWN"
    finally:
        proc.terminate()
        proc.wait(10)
