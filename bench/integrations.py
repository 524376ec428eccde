"""Benchmark of webhook ingestion: SendGrid-shaped events per second through HTTP (batches of 100
and 1,000), the time from a webhook's 2xx to the gate suppressing that person (inline and
through Celery on Redis).

Two figures per batch size, since "ingested" means two things: inline (no broker) the 2xx comes
after processing, so its rate is processed end to end; with Celery the 2xx comes once the batch is
durable in the inbox (``*_celery_accepted``), and ``*_celery_processed`` runs until the worker has
drained the inbox (``*_burst``: the inbox absorbs a burst while the worker is stopped). The server
runs with the product's default request limits; the bodies are signed before any timing (the
provider signs, on its side), and every figure runs in alternating rounds with its baseline.

The baseline, measured in the same run with the same HTTP server (waitress) and client, is the
least a webhook receiver can do: a WSGI app that inserts the raw body into a table of the same
kind of database (SQLite, or the PostgreSQL database given) and answers 200 (no token, signature,
parsing, inbox, dedup or processing). Run ``python bench/integrations.py`` (full) or ``--quick``;
``--database-url postgresql+psycopg://user@host/db`` runs Auditor (server, worker, gate lookup)
and the baseline on PostgreSQL (a fresh, empty database: the bench creates its tables there;
default SQLite in a temp dir). ``AUDITOR_BENCH_REDIS`` (default ``redis://127.0.0.1:6379/13``) is
the broker of the Celery figure. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

BASELINE_APP = r'''
import sys, threading, waitress
if sys.argv[2].startswith("postgresql"):  # a libpq URL: autocommit, one INSERT (and commit) per request
    import psycopg
    db = psycopg.connect(sys.argv[2], autocommit=True)
    db.execute("CREATE TABLE IF NOT EXISTS raw_webhooks (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)")
    insert = "INSERT INTO raw_webhooks (body) VALUES (%s)"
else:
    import sqlite3
    db = sqlite3.connect(sys.argv[2], check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS raw_webhooks (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    insert = "INSERT INTO raw_webhooks (body) VALUES (?)"
lock = threading.Lock()
def app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    with lock:
        db.execute(insert, (body,))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]
waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
'''


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            probe.request("GET", path)
            probe.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            probe.close()
    raise SystemExit("server did not start")


def _env(folder: Path, db_url: str | None, **more: str) -> dict[str, str]:
    """The environment of an Auditor process of the bench: its instance folder and database."""
    env = {**os.environ, "AUDITOR_INSTANCE_PATH": str(folder), "AUDITOR_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(HERE.parent), **more}
    env.pop("AUDITOR_DATABASE_URL", None)
    if db_url:
        env["AUDITOR_DATABASE_URL"] = db_url
    return env


def _serve(folder: Path, db_url: str | None, broker: str | None = None) -> tuple[subprocess.Popen, int]:
    port = _port()
    env = _env(folder, db_url, AUDITOR_PUBLIC_URL=f"http://127.0.0.1:{port}")
    env.pop("AUDITOR_BROKER_URL", None)
    for name in [n for n in env if n.upper().startswith("AUDITOR_RATELIMIT_")]:
        env.pop(name)  # the product's default request limits, whatever this shell sets
    if broker:
        env["AUDITOR_BROKER_URL"] = broker
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "serve", "--port", str(port), "--threads", "4"],
                            env=env, cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait(port, proc)
    return proc, port


def _events(start: int, n: int, campaign_id: int) -> list[dict]:
    """SendGrid-shaped events of ``n`` distinct messages: mostly delivery and engagement."""
    kinds = ("processed", "delivered", "open", "click", "deferred", "delivered", "open", "processed")
    out = []
    for i in range(start, start + n):
        ev = {"email": f"r{i}@example.org", "timestamp": 1796029200 + i % 3600, "event": kinds[i % len(kinds)],
              "sg_event_id": f"bench-{i}", "sg_message_id": f"msg{i // 4}.filter0001", "category": ["promo"],
              "smtp-id": f"<{i}@ismtpd-555>", "auditor_campaign": str(campaign_id)}
        if i % 200 == 0:
            ev["event"] = "unsubscribe"
        elif i % 200 == 100:
            ev.update(event="bounce", type="bounce", status="5.1.1", reason="550 5.1.1 user unknown")
        out.append(ev)
    return out


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise SystemExit(f"{path} answered {resp.status}: {data[:300]!r}")
    return data


Signed = list[tuple[bytes, dict[str, str]]]  # request bodies with their headers (signed beforehand)


def _rate(port: int, path: str, requests: Signed) -> float:
    """Events/s of posting ``requests[1:]`` one after another (``requests[0]`` warms up)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        _post(conn, path, *requests[0])  # warm up
        events = 0
        t = time.perf_counter()
        for body, headers in requests[1:]:
            _post(conn, path, body, headers)
            events += body.count(b'"sg_event_id"')
        return events / (time.perf_counter() - t)
    finally:
        conn.close()


def _bare(requests: Signed) -> Signed:
    return [(body, {}) for body, _headers in requests]


def _rounds(requests: Signed, rounds: int = 4) -> list[Signed]:
    """The requests after the first in ``rounds`` shares, each led by the first (its warm-up)."""
    share = max(1, (len(requests) - 1) // rounds)
    return [[requests[0], *requests[k:k + share]] for k in range(1, len(requests), share)]


def _events_in(requests: Signed) -> int:
    return sum(body.count(b'"sg_event_id"') for body, _headers in requests)


def _rates(port: int, path: str, base_port: int, requests: Signed) -> tuple[float, float]:
    """(ours, baseline) events/s, run in alternating rounds so that the load of a shared machine
    falls on both alike (each round posts a share of the requests to each server)."""
    ours = bare = 0.0
    for chunk in _rounds(requests):
        n = _events_in(chunk[1:])
        ours += n / _rate(port, path, chunk)
        bare += n / _rate(base_port, "/", _bare(chunk))
    return _events_in(requests[1:]) / ours, _events_in(requests[1:]) / bare


def _suppression_latency(port: int, path: str, key: str, token: str, people: list[str], sign) -> list[float]:
    """Per person: seconds from the unsubscribe webhook's 2xx until a gate call suppresses them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out = []
    try:
        for n, person in enumerate(people):
            body = json.dumps([{"email": person, "timestamp": 1796040000 + n, "event": "unsubscribe",
                                "sg_event_id": f"lat-{person}"}]).encode()
            _post(conn, path, body, sign(body))
            t0 = time.perf_counter()
            gate = json.dumps({"approval_token": token, "recipients": [person]}).encode()
            while True:
                answer = json.loads(_post(conn, "/api/v1/gate/check", gate, {"Authorization": f"Bearer {key}"}))
                if answer["suppressed"]:
                    out.append(time.perf_counter() - t0)
                    break
                if time.perf_counter() - t0 > 30:
                    raise SystemExit(f"{person} not suppressed after 30 s")
                time.sleep(0.02)
    finally:
        conn.close()
    return out


def _setup(folder: Path, db_url: str | None, people: list[str]) -> tuple[str, str, str, object]:
    """App data: consent for ``people``, an approved campaign, a key, a signed SendGrid integration."""
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    sys.path.insert(0, str(HERE))
    from gate import _approved_campaign  # the gate bench's approved-campaign row

    from auditor.accounts.services import create_key, create_user
    from auditor.db import transaction
    from auditor.integrations.services import create_integration
    from auditor.ledger.services import get_ledger
    from auditor.migrations import upgrade
    from consent_ledger import EventIn

    app = _app(folder, db_url)
    upgrade(app.extensions["auditor"].engine)
    signer = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(signer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    with app.app_context():
        get_ledger(app).append([EventIn(type="granted", subject=p, channel="email", purpose="marketing",
                                        method="web_form") for p in people], actor="bench")
        token = _approved_campaign(app)
    with transaction(app.extensions["auditor"].sessions) as s:
        key = create_key(s, create_user(s, "bench@example.org", "sender", None), "bench", ["gate:check"])[1]
        _row, url_token = create_integration(s, name="sg", provider="sendgrid", actor="bench", secret=public)
    app.extensions["auditor"].engine.dispose()

    def sign(body: bytes) -> dict[str, str]:
        ts = "1796040000"
        sig = signer.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": ts}

    return f"/hooks/sendgrid/{url_token}", key, token, sign


def _app(folder: Path, db_url: str | None):
    """The bench's Auditor app (in this process) on its instance folder and database."""
    from auditor import create_app

    cfg = {"instance_path": str(folder), "log_level": "WARNING"}
    if db_url:
        cfg["database_url"] = db_url
    return create_app(cfg)


def _gate_lookup(folder: Path, db_url: str | None, size: int) -> list[dict]:
    """The gate's added cost: the hard-bounce lookup of ``size`` recipients, with none bounced
    (the common case) and with a tenth of them bounced, beside a bare ``IN`` lookup of the same
    keys in a two-column table of the same database."""
    import hashlib

    from auditor.integrations.services import hard_bounced

    app = _app(folder, db_url)
    engine = app.extensions["auditor"].engine
    p = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    keys = [hashlib.sha256(f"g{i}".encode()).hexdigest() for i in range(size)]
    with engine.connect() as conn:
        t = time.perf_counter()
        hard_bounced(conn, keys, "sms")  # no sms address ever bounced: one probe query
        empty = time.perf_counter() - t
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        now = datetime.now(UTC) if p == "%s" else datetime.now(UTC).isoformat()
        columns = "pseudonym, channel, recipient_sha256, provider_event_id, reason, bounced_at, created_at"
        insert = f"INSERT INTO bounce_suppressions ({columns}) VALUES ({p}, 'email', {p}, {p}, '550 5.1.1', {p}, {p})"  # noqa: S608
        cur.executemany(insert, [(k, k, f"b{i}", now, now) for i, k in enumerate(keys[::10])])
        cur.execute("CREATE TABLE bench_bare (pseudonym TEXT PRIMARY KEY, reason TEXT)")
        cur.executemany(f"INSERT INTO bench_bare VALUES ({p}, '550 5.1.1')", [(k,) for k in keys[::10]])  # noqa: S608
        raw.commit()
        runs, bare = [], []
        for _ in range(3):
            with engine.connect() as conn:
                t = time.perf_counter()
                found = hard_bounced(conn, keys, "email")
                runs.append(time.perf_counter() - t)
            assert len(found) == size // 10 == len({k for k in keys if k in found})
            t = time.perf_counter()
            for i in range(0, size, 30000):
                chunk = keys[i:i + 30000]
                cur.execute(f"SELECT pseudonym, reason FROM bench_bare WHERE pseudonym IN ({','.join([p] * len(chunk))})",  # noqa: S608
                            chunk)
                cur.fetchall()
            bare.append(time.perf_counter() - t)
    finally:
        raw.close()
        engine.dispose()
    ms = sorted(runs)[1] * 1000
    what = "bare SQL IN lookup of the same keys in a (pseudonym, reason) table, same database (ms)"
    return [_result(f"gate_hard_bounce_lookup_{size}_none_bounced", empty * 1000, "ms", "informational", True),
            _result(f"gate_hard_bounce_lookup_{size}_tenth_bounced", ms, "ms", "informational", True,
                    {"what": what, "value": sorted(bare)[1] * 1000})]


def _result(metric: str, value: float, unit: str, target: str, met: bool, baseline: dict | None = None,
            **extra: object) -> dict:
    out = {"metric": metric, "value": round(value, 3 if unit in ("s", "ms") else 1), "unit": unit}
    if baseline:
        out["baseline"] = {"what": baseline["what"], "value": round(baseline["value"], 1)}
        out["ratio"] = round(value / baseline["value"], 2) if baseline["value"] else None
    return {**out, "target": target, "met": met, **extra}


def _batches(start: int, size: int, requests: int, sign, campaign_id: int = 1) -> Signed:
    """``requests + 1`` SendGrid batches of ``size`` events with their signature headers, signed
    before any is timed (the provider signs, on its side; the baseline's client sends the same bytes)."""
    bodies = [json.dumps(_events(start + k * size, size, campaign_id)).encode() for k in range(requests + 1)]
    return [(body, sign(body)) for body in bodies]


class Undrained:
    """Inbox entries the worker has not finished, read straight from the database (a SQLite
    connection per read, so that none holds a snapshot; one autocommit PostgreSQL connection)."""

    SQL = "SELECT count(*) FROM webhook_inbox WHERE state != 'processed'"

    def __init__(self, folder: Path, db_url: str | None) -> None:
        self.sqlite = None if db_url else folder / "auditor.db"
        self.pg = None
        if db_url:
            import psycopg

            self.pg = psycopg.connect(_libpq(db_url), autocommit=True)

    def __call__(self) -> int:
        if self.pg is not None:
            return self.pg.execute(self.SQL).fetchone()[0]
        import sqlite3

        db = sqlite3.connect(self.sqlite, timeout=30)
        try:
            return db.execute(self.SQL).fetchone()[0]
        finally:
            db.close()

    def close(self) -> None:
        if self.pg is not None:
            self.pg.close()


def _libpq(db_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it (no ``+driver``)."""
    from sqlalchemy.engine import make_url

    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _accepted_and_drained(port: int, path: str, requests: Signed, undrained: Undrained, base_port: int,
                          paused: subprocess.Popen | None = None) -> tuple[float, float, float]:
    """(events/s answered 2xx, events/s until the worker has processed every inbox entry, the
    baseline's events/s), ours and the baseline in alternating rounds (a share of the requests to
    each in turn).

    Worker alongside (``paused`` None): each round runs until the worker drained the inbox before
    the baseline's share. ``paused``: the worker, idle, is stopped (SIGSTOP) for all the rounds and
    continued after: the inbox absorbs a burst without the worker competing for the CPUs and
    SQLite's one write lock; the second figure counts our posting time plus the time to drain.
    """
    accepted = drained = bare = 0.0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        _post(conn, path, *requests[0])  # warm up
        while undrained():
            time.sleep(0.01)
        if paused is not None:
            time.sleep(1)  # the worker's drain has returned: stopped idle, it holds no SQLite lock or snapshot
            paused.send_signal(signal.SIGSTOP)
        try:
            for chunk in _rounds(requests):
                t = time.perf_counter()
                for body, headers in chunk[1:]:
                    _post(conn, path, body, headers)
                accepted += time.perf_counter() - t
                while paused is None and undrained():
                    if time.perf_counter() - t > 600:
                        raise SystemExit("the worker did not drain the inbox in 10 minutes")
                    time.sleep(0.01)
                drained += time.perf_counter() - t
                bare += _events_in(chunk[1:]) / _rate(base_port, "/", _bare(chunk))
        finally:
            if paused is not None:
                paused.send_signal(signal.SIGCONT)
        t = time.perf_counter()
        while undrained():
            if time.perf_counter() - t > 600:
                raise SystemExit("the worker did not drain the inbox in 10 minutes")
            time.sleep(0.01)
        drained += time.perf_counter() - t
    finally:
        conn.close()
    events = _events_in(requests[1:])
    return events / accepted, events / drained, events / bare


WHAT = "WSGI app on waitress inserting the raw body into {db}, same client, measured beside (events/s)"
TARGET = ">= 2000 events/s and ratio >= 0.25"


def _latency(metric: str, runs: list[float], limit: float, **cold: float) -> dict:
    return _result(metric, max(runs), "s", f"<= {limit} s", max(runs) <= limit, runs=[round(x, 3) for x in runs],
                   **{k: round(v, 3) for k, v in cold.items()})


def _figure(metric: str, ours: float, bare: float, events: int, db: str, **extra: object) -> dict:
    return _result(metric, ours, "events/s", TARGET, ours >= 2000 and ours / bare >= 0.25,
                   {"what": WHAT.format(db=db), "value": bare}, events=events, **extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL, a fresh empty database (default: SQLite in a temp dir)")
    args = parser.parse_args()
    db_url = args.database_url
    db = "PostgreSQL" if db_url else "SQLite"
    sizes = {100: 20 if args.quick else 200, 1000: 8 if args.quick else 40}  # batch size -> requests
    probes = 3 if args.quick else 10
    broker = os.environ.get("AUDITOR_BENCH_REDIS", "redis://127.0.0.1:6379/13")

    folder = Path(tempfile.mkdtemp(prefix="auditor-bench-integrations-"))
    people = [f"lat{i}@example.org" for i in range(2 * probes + 2)]
    path, key, token, sign = _setup(folder, db_url, people)
    results = []
    start = 0

    base_port = _port()
    base = subprocess.Popen([sys.executable, "-c", BASELINE_APP, str(base_port),
                             _libpq(db_url) if db_url else str(folder / "baseline.db")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(base_port, base, "/")
        # Inline (no broker): the 2xx comes after processing, so accepted = processed end to end.
        server, port = _serve(folder, db_url)
        try:
            for size, requests in sizes.items():
                batches = _batches(start, size, requests, sign)
                start += size * (requests + 1)
                ours, bare = _rates(port, path, base_port, batches)
                results.append(_figure(f"sendgrid_events_per_s_batch_{size}_inline_processed", ours, bare,
                                       size * requests, db, mode="inline: 2xx after the ledger and delivery stores; "
                                       "ours and the baseline in alternating rounds"))
            cold = _suppression_latency(port, path, key, token, people[:1], sign)  # first gate call: caches
            inline = _suppression_latency(port, path, key, token, people[1:probes + 1], sign)
            results.append(_latency("webhook_2xx_to_gate_suppression_inline_max", inline, 1, cold_first=cold[0]))
        finally:
            server.terminate()
            server.wait(10)

        try:
            import redis

            redis.Redis.from_url(broker, socket_connect_timeout=2).ping()
            have_redis = True
        except Exception:  # noqa: BLE001 - no broker: the Celery figures are left out, and said so
            have_redis = False
        if have_redis:
            server, port = _serve(folder, db_url, broker)
            env = _env(folder, db_url, AUDITOR_BROKER_URL=broker)
            undrained = Undrained(folder, db_url)
            worker = subprocess.Popen([sys.executable, "-m", "auditor", "worker", "--concurrency", "2"], env=env,
                                      cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                # The worker's first job waits for its start (imports, broker connection): measured apart.
                cold = _suppression_latency(port, path, key, token, people[probes + 1:probes + 2], sign)
                for (size, requests), (how, paused) in itertools.product(
                        sizes.items(), (("", None), ("_burst", worker))):
                    batches = _batches(start, size, requests, sign)
                    start += size * (requests + 1)
                    accepted, drained, bare = _accepted_and_drained(port, path, batches, undrained, base_port,
                                                                    paused)
                    alongside = ("with the worker paused while posting (the inbox absorbs a burst)" if paused
                                 else "with the worker (2 threads) processing alongside")
                    results.append(_figure(f"sendgrid_events_per_s_batch_{size}_celery_accepted{how}", accepted,
                                           bare, size * requests, db,
                                           mode=f"Celery: 2xx once durable in the inbox, {alongside}"))
                    results.append(_figure(f"sendgrid_events_per_s_batch_{size}_celery_processed{how}", drained,
                                           bare, size * requests, db, mode="Celery: from the first request until "
                                           f"the worker drained the inbox, {alongside}"))
                celery = _suppression_latency(port, path, key, token, people[probes + 2:], sign)
                results.append(_latency("webhook_2xx_to_gate_suppression_celery_max", celery, 5,
                                        cold_first_incl_worker_start=cold[0]))
            finally:
                worker.terminate()
                worker.wait(15)
                server.terminate()
                server.wait(10)
                undrained.close()
    finally:
        base.terminate()
        base.wait(10)
    results += _gate_lookup(folder, db_url, 20_000 if args.quick else 100_000)
    print(json.dumps({
        "bench": "integrations",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 1)},
        "quick": args.quick, "database": db, "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "celery": "measured" if have_redis else f"skipped: no Redis at {broker}",
        "rate_limits": "the product's defaults (AUDITOR_RATELIMIT_*: none is turned off)",
        "results": results,
    }, indent=2))


if __name__ == "__main__":
    main()
