"""Ledger benchmarks: batched appends, bulk current state, proofs, verify, import memory.

Run: ``python bench/ledger.py [--quick]``. Prints one JSON document (INTERFACES.md); each figure
sits beside a baseline measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on sys.path, and bench/dns.py would shadow dnspython.
sys.path[:] = [str(Path(__file__).resolve().parents[1])] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from auditor.db import make_engine  # noqa: E402
from auditor.migrations import upgrade  # noqa: E402
from consent_ledger import EventIn, Evidence, Ledger  # noqa: E402
from consent_ledger.db import SQLITE_CACHE_KIB, SQLITE_CHECKPOINT_PAGES  # noqa: E402

BATCH = 5000
TABLES = ("ledger_events", "ledger_states", "ledger_vault")


def _evidence(i: int) -> Evidence:
    return Evidence(source_url=f"https://shop{i % 7}.example/signup?c={i % 13}", ip=f"198.51.{i % 250}.{i % 199 + 1}",
                    user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0", notice_version=f"v{i % 4}",
                    notice_sha256=f"{i % 4:x}" * 64, separate_document=True, pre_ticked=False, bundled=False)


def _event(i: int, prefix: str = "user") -> EventIn:
    return EventIn(type="granted", subject=f"{prefix}{i}@mail{i % 500}.example.org", channel="email",
                   purpose="marketing", controller="OOO Shop", jurisdiction="RU", legal_basis="consent",
                   method="web_form", evidence=_evidence(i), claimed_at=f"2026-11-{i % 28 + 1:02d}T10:{i % 60:02d}:00Z")


def _ledger(url: str) -> Ledger:
    engine = make_engine(url)
    upgrade(engine)
    return Ledger(engine, os.urandom(32), Ed25519PrivateKey.generate(), checkpoint_every_events=10000)


def _result(metric, value, unit, baseline_what, baseline, ratio, target, met, **extra):
    return {"metric": metric, "value": round(value, 3), "unit": unit,
            "baseline": {"what": baseline_what, "value": round(baseline, 3)},
            "ratio": round(ratio, 3), "target": target, "met": bool(met), **extra}


def bench_append(folder: Path, n: int) -> dict:
    """Batched appends through the pipelined API vs executemany of the same rows into bare tables."""
    ledger = _ledger(f"sqlite:///{folder / 'append.db'}")
    events = [_event(i) for i in range(n)]
    batches = [events[i:i + BATCH] for i in range(0, n, BATCH)]
    t = time.perf_counter()
    for _ in ledger.append_stream(batches, "bench", keep_good=False):
        pass
    elapsed = time.perf_counter() - t
    rate = n / elapsed
    src = sqlite3.connect(folder / "append.db")
    rows = {t: src.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}  # noqa: S608
    cols = {t: [r[1] for r in src.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    marks = ", ".join("?" * len(TABLES))
    ddl = [sql for (sql,) in src.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND type IN "  # noqa: S608
                                         f"('table', 'index') AND tbl_name IN ({marks})", TABLES)]
    src.close()
    ledger.engine.dispose()
    base_all = _inserts(folder / "bare.db", [f"CREATE TABLE {t} ({', '.join(cols[t])})" for t in TABLES], rows, n)
    base_events = _inserts(folder / "events.db", [f"CREATE TABLE ledger_events ({', '.join(cols['ledger_events'])})"],
                           {"ledger_events": rows["ledger_events"]}, n)
    # With the ledger's own keys and indexes: what SQLite itself costs for this layout (random
    # HMAC keys in three B-trees) before any ledger work. Each batch writes the rows its own events
    # wrote: tables read back in key order would hand every batch a contiguous key range.
    first: dict[str, int] = {}
    for row in rows["ledger_events"]:
        first.setdefault(row[1], row[0])
    indexed = _inserts(folder / "indexed.db", ddl, {t: rows[t] if t == "ledger_events" else
                                                    sorted(rows[t], key=lambda r: first[r[0]]) for t in TABLES}, n)
    ratio = rate / base_all
    return _result("append_batched_sqlite", rate, "events/s",
                   "executemany of the same rows (events, projection, vault) into bare tables", base_all, ratio,
                   ">= 20000 events/s and ratio >= 0.4", rate >= 20000 and ratio >= 0.4, events=n,
                   batch=BATCH, events_table_only_baseline=round(base_events),
                   ratio_to_events_table_only=round(rate / base_events, 3),
                   indexed_tables_baseline=round(indexed), ratio_to_indexed_tables=round(rate / indexed, 3))


def _inserts(path: Path, ddl: list[str], rows: dict[str, list[tuple]], n: int) -> float:
    """Events/s of plain executemany of ``rows`` (per table) in batches of BATCH events, one
    transaction each, into a new database made by ``ddl`` with the service's pragmas."""
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"cache_size=-{SQLITE_CACHE_KIB}",
                   f"wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}"):
        db.execute(f"PRAGMA {pragma}")
    for sql in ddl:
        db.execute(sql)
    t0 = time.perf_counter()
    for i in range(0, n, BATCH):
        db.execute("BEGIN")
        for t, table_rows in rows.items():
            part = table_rows[i:i + BATCH]
            if part:
                db.executemany(f"INSERT INTO {t} VALUES ({', '.join('?' * len(part[0]))})",  # noqa: S608
                               part)
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    db.close()
    return rate


def write_csv(path: Path, n: int) -> None:
    """A consent export of ``n`` rows, as a CRM would produce it."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["type", "subject", "channel", "purpose", "controller", "jurisdiction", "legal_basis", "method",
                    "source_url", "ip", "user_agent", "notice_version", "notice_sha256", "separate_document",
                    "pre_ticked", "bundled", "claimed_at"])
        for i in range(n):
            e = _event(i, "imp")
            ev = e.evidence
            w.writerow([e.type, e.subject, e.channel, e.purpose, e.controller, e.jurisdiction, e.legal_basis,
                        e.method, ev.source_url, ev.ip, ev.user_agent, ev.notice_version, ev.notice_sha256,
                        "true", "false", "false", e.claimed_at])


_CHILD_BASELINE = """
import csv, sys, resource
import auditor.cli, consent_ledger, sqlalchemy  # the same libraries the import loads
n = 0
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        n += 1
print(n)
"""


# A small launcher measures the child: Linux keeps a forked child's ru_maxrss across exec, so
# a child forked straight from this (large) benchmark process would report our RSS, not its own.
_LAUNCHER = """
import json, os, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(p.pid, 0)
open(sys.argv[1], "w").write(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024]))
"""


def _peak_rss(args: list[str], env: dict, folder: Path) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run a child through the launcher; returns (seconds, peak RSS in bytes, the process)."""
    report = folder / "rss.json"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, str(report), sys.executable, *args], env=env,
                          cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    code, rss = json.loads(report.read_text())
    return elapsed, rss, subprocess.CompletedProcess(proc.args, code, proc.stdout, proc.stderr)


def bench_import(folder: Path, n: int) -> tuple[dict, Path]:
    """`auditor ledger import` of an n-row CSV in a child process: peak memory and rate."""
    path = folder / "consents.csv"
    write_csv(path, n)
    env = {**os.environ, "AUDITOR_INSTANCE_PATH": str(folder / "instance"), "PYTHONPATH": str(ROOT)}
    env.pop("AUDITOR_DATABASE_URL", None)
    secs, rss, proc = _peak_rss(["-m", "auditor", "ledger", "import", str(path), "--json"], env, folder)
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    assert out["imported"] == n, out
    _, base_rss, _ = _peak_rss(["-c", _CHILD_BASELINE, str(path)], env, folder)
    mb, base_mb = rss / 2**20, base_rss / 2**20
    return _result("import_csv_peak_memory", mb, "MB", "a child that loads the same libraries and reads the CSV",
                   base_mb, mb / base_mb, "<= 300 MB", mb <= 300, rows=n, seconds=round(secs, 1),
                   rows_per_second=round(n / secs), csv_mb=round(path.stat().st_size / 2**20, 1)), folder / "instance"


def _instance_ledger(instance: Path) -> Ledger:
    from auditor import create_app
    from auditor.ledger.services import get_ledger

    app = create_app({"instance_path": str(instance)})
    return get_ledger(app)


def bench_proofs(ledger: Ledger, samples: int) -> dict:
    """Inclusion proofs of random events against a checkpoint of the whole ledger."""
    n = ledger.size()
    ledger.checkpoint()
    rng = random.Random(7)
    seqs = [rng.randint(1, n) for _ in range(samples)]
    ledger.inclusion_proof(seqs[0])  # warm the connection pool
    times = []
    for s in seqs:
        t = time.perf_counter()
        doc = ledger.inclusion_proof(s)
        times.append(time.perf_counter() - t)
        assert doc["tree_size"] == n
    from sqlalchemy import text

    base = []
    with ledger.engine.connect() as conn:
        for s in seqs:
            t = time.perf_counter()
            conn.execute(text("SELECT event FROM ledger_events WHERE seq = :s"), {"s": s}).one()
            base.append(time.perf_counter() - t)
    ms, base_ms = statistics.median(times) * 1e3, statistics.median(base) * 1e3
    p95 = sorted(times)[int(len(times) * 0.95)] * 1e3
    return _result("inclusion_proof", ms, "ms (median)", "reading the one event row by seq", base_ms, ms / base_ms,
                   "<= 10 ms at 1,000,000 events (median)", ms <= 10, events=n, p95_ms=round(p95, 3),
                   path_length=len(doc["audit_path"]))


def bench_verify(ledger: Ledger, db_path: Path) -> dict:
    """verify() of the whole ledger vs streaming the rows and hashing each event once."""
    import hashlib

    t = time.perf_counter()
    report = ledger.verify()
    secs = time.perf_counter() - t
    assert report.ok, report
    conn = sqlite3.connect(db_path)
    t = time.perf_counter()
    for (ev,) in conn.execute("SELECT event FROM ledger_events ORDER BY seq"):
        hashlib.sha256(b"\x00" + ev.encode()).digest()
    base = time.perf_counter() - t
    conn.close()
    return _result("verify", secs, "s", "streaming every event and hashing it once", base, secs / base,
                   "<= 30 s at 1,000,000 events", secs <= 30, events=report.size,
                   checkpoints=report.checkpoints_checked)


def bench_states(ledger: Ledger, db_path: Path, k: int, runs: int = 3) -> dict:
    """current_states of k recipients vs a raw indexed join through a temp table.

    Median of ``runs`` draws of k different recipients each, for both (a shared virtual
    machine's timings wander by a fifth from one run to the next).
    """
    conn = sqlite3.connect(db_path)
    ledger.current_states([r[0] for r in conn.execute("SELECT pseudonym FROM ledger_states LIMIT 100")],
                          "email", "marketing")
    times, bases = [], []
    for run in range(runs):
        ps = [r[0] for r in conn.execute("SELECT pseudonym FROM ledger_states ORDER BY random() LIMIT ?", (k,))]
        t = time.perf_counter()
        got = ledger.current_states(ps, "email", "marketing")
        times.append(time.perf_counter() - t)
        assert len(got) == len(ps)
        t = time.perf_counter()
        conn.execute(f"CREATE TEMP TABLE wanted{run} (p TEXT PRIMARY KEY)")
        conn.executemany(f"INSERT INTO wanted{run} VALUES (?)", ((p,) for p in ps))  # noqa: S608
        rows = conn.execute(f"SELECT s.* FROM wanted{run} w JOIN ledger_states s ON s.pseudonym = w.p "  # noqa: S608
                            "AND s.channel = 'email' AND s.purpose = 'marketing'").fetchall()
        bases.append(time.perf_counter() - t)
        assert len(rows) == len(ps)
        del got, rows
    conn.close()
    secs, base = statistics.median(times), statistics.median(bases)
    ratio = secs / base
    return _result("current_states", secs, "s", "raw sqlite3 temp-table join on the primary key", base, ratio,
                   "<= 1 s for 100,000 recipients and <= 3x baseline", secs <= 1 and ratio <= 3, recipients=k,
                   ledger_events=ledger.size(), runs=[round(x, 3) for x in times],
                   baseline_runs=[round(x, 3) for x in bases])


def main() -> None:
    """Run every benchmark and print the JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    args = parser.parse_args()
    sizes = ({"append": 20000, "import": 50000, "states": 10000, "proofs": 200} if args.quick else
             {"append": 200000, "import": 1000000, "states": 100000, "proofs": 1000})
    results = []
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        folder = Path(tmp)
        results.append(bench_append(folder, sizes["append"]))
        imported, instance = bench_import(folder, sizes["import"])
        results.append(imported)
        ledger = _instance_ledger(instance)
        db_path = instance / "auditor.db"
        results.append(bench_proofs(ledger, sizes["proofs"]))
        results.append(bench_states(ledger, db_path, sizes["states"]))
        results.append(bench_verify(ledger, db_path))
        ledger.engine.dispose()
    print(json.dumps({"bench": "ledger", "quick": args.quick,
                      "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "sqlite": sqlite3.sqlite_version,
                                  # other work on the machine slows every figure and its baseline alike
                                  "load_average_before": [round(x, 1) for x in load_before],
                                  "load_average_after": [round(x, 1) for x in os.getloadavg()]},
                      "seconds": round(time.perf_counter() - started),
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
