"""Benchmark of the send gate: 1,000 recipients over HTTP (p50, p99) and 100,000 in one call.

Each figure stands beside the raw lookup baseline measured in the same run: a bare SQL ``IN``
query of the same pseudonyms against a two-column table in the same database. The service runs
as ``auditor serve`` (waitress) in its own process; the client is this one. Run
``python bench/gate.py`` (full) or ``--quick`` (smaller, under a minute), on ``--engine sqlite``,
``postgres`` (a temporary database on the local server) or ``both``. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, this folder comes first on sys.path, and bench/dns.py would shadow dnspython.
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from bench.engines import engines_of, mark, temp_database  # noqa: E402

PURPOSE, CHANNEL = "marketing", "email"


def _seed(app, population: int) -> list[str]:
    """Record consent for ``population`` addresses (every tenth later withdrawn)."""
    from auditor.ledger.services import get_ledger
    from consent_ledger import EventIn, Evidence

    ledger = get_ledger(app)
    people = [f"person{i}@example.org" for i in range(population)]
    ev = Evidence(source_url="https://shop.example/signup", ip="198.51.100.7", user_agent="bench",
                  notice_version="2025-09", notice_sha256="a" * 64, separate_document=True,
                  pre_ticked=False, bundled=False)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(0, population, 5000):
        batch = people[i:i + 5000]
        # Distinct signup times, as real lists have: no two subjects share a consent state.
        ledger.append([EventIn(type="granted", subject=p, channel=CHANNEL, purpose=PURPOSE, evidence=ev,
                               method="double-opt-in-form", claimed_at=start + timedelta(seconds=i + j))
                       for j, p in enumerate(batch)], actor="bench")
        ledger.append([EventIn(type="confirmed", subject=p, channel=CHANNEL, purpose=PURPOSE, evidence=ev,
                               method="double-opt-in-form") for p in batch], actor="bench")
    ledger.append([EventIn(type="withdrawn", subject=p, channel=CHANNEL, purpose=PURPOSE, method="one-click")
                   for p in people[::10]], actor="bench")
    return people


def _approved_campaign(app) -> str:
    """An approved campaign row and its approval token (the audit itself is not benchmarked)."""
    from auditor.accounts.services import create_user
    from auditor.campaigns.models import Campaign
    from auditor.campaigns.services import issue_token, token_string
    from auditor.db import transaction

    doc = {"name": "bench", "channel": CHANNEL, "purpose": PURPOSE, "advertising": True, "jurisdictions": ["RU"],
           "sender": {"from": "Shop <news@shop.example>", "domain": "shop.example"},
           "message": {"subject": "offers", "text": "offers"}, "unsubscribe": "auditor"}
    now = datetime.now(UTC)
    with transaction(app.extensions["auditor"].sessions) as s:
        user = create_user(s, "bench-submitter@example.org", "sender", None)
        c = Campaign(name="bench", channel=CHANNEL, purpose=PURPOSE, document=doc, content_sha256="ab" * 32,
                     status="approved", findings=[], recipient_count=0, allowed_count=0, suppressed_count=0,
                     reasons={}, warnings={}, submitter_id=user.id, submitted_by="bench", created_at=now,
                     decided_at=now)
        s.add(c)
        s.flush()
        row = issue_token(app, s, c, now)
    return token_string(app, row)


def _baseline_table(app, people: list[str]) -> dict[str, str]:
    """A bare (pseudonym, status) table with the same subjects; returns raw -> pseudonym."""
    from auditor.ledger.services import get_ledger

    ledger = get_ledger(app)
    pseud = {p: ledger.pseudonym_of(p, CHANNEL) for p in people}
    raw = app.extensions["auditor"].engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("CREATE TABLE bench_lookup (pseudonym TEXT PRIMARY KEY, status TEXT NOT NULL)")
        q = mark(app.extensions["auditor"].engine)
        cur.executemany(f"INSERT INTO bench_lookup VALUES ({q}, {q})",  # noqa: S608
                        [(v, "withdrawn" if i % 10 == 0 else "confirmed") for i, v in enumerate(pseud.values())])
        raw.commit()
    finally:
        raw.close()
    return pseud


def _bare_lookup(conn, pseudonyms: list[str], q: str) -> float:
    """Seconds for ``SELECT ... WHERE pseudonym IN (...)`` over the pseudonyms (chunks of 30,000)."""
    t = time.perf_counter()
    cur = conn.cursor()
    found = 0
    for i in range(0, len(pseudonyms), 30000):
        chunk = pseudonyms[i:i + 30000]
        marks = ",".join([q] * len(chunk))
        cur.execute(f"SELECT pseudonym, status FROM bench_lookup WHERE pseudonym IN ({marks})", chunk)  # noqa: S608
        found += len(cur.fetchall())
    conn.commit()
    elapsed = time.perf_counter() - t
    assert found > 0
    return elapsed


def _serve(folder: Path, url: str) -> tuple[subprocess.Popen, int]:
    """``auditor serve`` on the benchmark's instance, in its own process as it runs in production
    (a client inside the server's process would share its interpreter lock)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "AUDITOR_INSTANCE_PATH": str(folder), "AUDITOR_LOG_LEVEL": "WARNING",
           "AUDITOR_MAX_BODY_BYTES": str(64 * 1024 * 1024), "PYTHONPATH": str(HERE.parent),
           "AUDITOR_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "serve", "--port", str(port), "--threads", "4"],
                            env=env, cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
        finally:
            probe.close()
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"auditor serve did not start: {proc.stderr.read().decode()[-2000:]}")


def _call(conn: http.client.HTTPConnection, key: str, token: str, recipients: list[str]) -> tuple[float, dict]:
    body = json.dumps({"approval_token": token, "recipients": recipients})
    t = time.perf_counter()
    conn.request("POST", "/api/v1/gate/check", body=body,
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    resp = conn.getresponse()
    data = resp.read()
    elapsed = time.perf_counter() - t
    if resp.status != 200:
        raise SystemExit(f"gate answered {resp.status}: {data[:300]!r}")
    return elapsed, json.loads(data)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _result(metric: str, value: float, unit: str, what: str, base: float, target: str, met: bool,
            **extra: object) -> dict:
    return {"metric": metric, "value": round(value, 2), "unit": unit,
            "baseline": {"what": what, "value": round(base, 2)},
            "ratio": round(value / base, 1) if base else None, "target": target, "met": met, **extra}


def run(kind: str, url: str, quick: bool) -> list[dict]:
    """Every gate figure on one engine, each beside its raw lookup on the same database."""
    population = 20_000 if quick else 100_000
    batch_calls = 40 if quick else 300
    big = population
    big_runs = 2 if quick else 7  # a shared VM's timings wander: the median of several calls

    from auditor import create_app
    from auditor.accounts.services import create_key, create_user
    from auditor.db import transaction
    from auditor.migrations import upgrade

    folder = Path(tempfile.mkdtemp(prefix="auditor-bench-gate-"))
    app = create_app({"instance_path": str(folder), "log_level": "WARNING", "database_url": url,
                      "max_body_bytes": 64 * 1024 * 1024})
    upgrade(app.extensions["auditor"].engine)
    with app.app_context():
        people = _seed(app, population)
        token = _approved_campaign(app)
        pseud = _baseline_table(app, people)
    with transaction(app.extensions["auditor"].sessions) as s:
        key = create_key(s, create_user(s, "bench@example.org", "sender", None), "bench", ["gate:check"])[1]

    rng = random.Random(7)
    strangers = [f"stranger{i}@example.net" for i in range(population // 20)]
    app.extensions["auditor"].engine.dispose()  # the server process opens its own connections
    server, port = _serve(folder, url)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    raw = app.extensions["auditor"].engine.raw_connection()
    q = mark(app.extensions["auditor"].engine)
    try:
        for _ in range(5):  # warm up: connections, caches, the first token verification
            _call(conn, key, token, rng.sample(people, 1000))
        gate_ms, base_ms = [], []
        for _ in range(batch_calls):
            batch = rng.sample(people, 950) + rng.sample(strangers, 50)
            elapsed, answer = _call(conn, key, token, batch)
            assert len(answer["allowed"]) + len(answer["suppressed"]) == 1000
            gate_ms.append(elapsed * 1000)
            base_ms.append(_bare_lookup(raw, [pseud[p] for p in batch if p in pseud], q) * 1000)
        big_s, big_base = [], []
        for _ in range(big_runs):
            batch = rng.sample(people, big - len(strangers)) + strangers
            elapsed, answer = _call(conn, key, token, batch)
            assert len(answer["allowed"]) + len(answer["suppressed"]) == big
            big_s.append(elapsed * 1000)
            big_base.append(_bare_lookup(raw, [pseud[p] for p in batch if p in pseud], q) * 1000)
    finally:
        raw.close()
        conn.close()
        server.terminate()
        server.wait(10)

    p50, p99 = statistics.median(gate_ms), _pct(gate_ms, 0.99)
    b50, b99 = statistics.median(base_ms), _pct(base_ms, 0.99)
    bigm, bigb = statistics.median(big_s), statistics.median(big_base)
    app.extensions["auditor"].engine.dispose()
    where = "same SQLite file" if kind == "sqlite" else "same PostgreSQL database"
    what = f"bare SQL IN lookup of the same pseudonyms in a (pseudonym, status) table, {where}"
    big_limit = 2000 if kind == "sqlite" else 2500
    return [
        _result(f"gate_1000_http_p50_{kind}", p50, "ms", what + " (p50)", b50, "<= 50 ms", p50 <= 50),
        _result(f"gate_1000_http_p99_{kind}", p99, "ms", what + " (p99)", b99, "<= 150 ms", p99 <= 150),
        _result(f"gate_{big}_one_call_{kind}", bigm, "ms", what + " (median of the calls)", bigb,
                f"<= {big_limit} ms", bigm <= big_limit, runs=[round(x) for x in big_s],
                baseline_runs=[round(x) for x in big_base]),
    ]


def main() -> None:
    """Run the gate benchmark on the chosen engines and print one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both",
                        help="where to run (PostgreSQL: a temporary database on the local server)")
    args = parser.parse_args()
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="auditor-bench-gate-db-") as tmp:
        for kind in engines_of(args.engine):
            with temp_database(kind, Path(tmp), "gate") as url:
                results.extend(run(kind, url, args.quick))
    print(json.dumps({
        "bench": "gate",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 1)},  # other work on the box skews figures
        "quick": args.quick,
        "population": 20_000 if args.quick else 100_000,
        "results": results,
    }, indent=2))


if __name__ == "__main__":
    main()
