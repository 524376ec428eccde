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
from bench.engines import engines_of, mark, server_version, temp_database  # noqa: E402
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


def _fetch(engine, sql: str, params: tuple = ()) -> list[tuple]:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql, params)
        return [tuple(r) for r in cur.fetchall()]
    finally:
        raw.close()


def bench_append(folder: Path, n: int, kind: str) -> dict:
    """Steady appends (``Ledger.append`` per batch, as ``POST /api/v1/consents`` calls it) vs
    executemany of the same rows, same engine; the pipelined ``append_stream`` (the streaming
    import) of the same events beside them.

    The own-layout baseline is interleaved with the ledger batch by batch: each batch's rows are
    read back from the ledger and written raw into a second database right after the ledger
    wrote them, so both see the same load on a shared machine (measured one after the other,
    the ratio swung from 0.3 to 0.7 between runs here).
    """
    events = [_event(i) for i in range(n)]
    batches = [events[i:i + BATCH] for i in range(0, n, BATCH)]
    with temp_database(kind, folder, "stream") as url:
        ledger = _ledger(url)
        t = time.perf_counter()
        for _ in ledger.append_stream(batches, "bench", keep_good=False):
            pass
        stream_rate = n / (time.perf_counter() - t)
        ledger.engine.dispose()
    rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
    with temp_database(kind, folder, "append") as url, temp_database(kind, folder, "baseline") as base_url:
        ledger = _ledger(url)
        engine = make_engine(base_url)
        upgrade(engine)  # the ledger's own layout: its keys, indexes and triggers
        with engine.begin() as conn:
            for t in TABLES:  # the same columns and types, no key or index
                conn.exec_driver_sql(f"CREATE TABLE bare_{t} AS SELECT * FROM {t} WHERE 1 = 0")  # noqa: S608
            conn.exec_driver_sql("CREATE TABLE bare_events_only AS SELECT * FROM ledger_events WHERE 1 = 0")
        writer = _RawWriter(engine)
        q = mark(ledger.engine)
        elapsed = indexed_s = 0.0
        seen: set[str] = set()
        for batch in batches:
            t = time.perf_counter()
            done = ledger.append(batch, "bench")
            elapsed += time.perf_counter() - t
            # The rows this batch wrote: its events, and the projection and vault rows of the
            # subjects it brought first, in the order the ledger met them.
            part = {"ledger_events": _fetch(ledger.engine, f"SELECT * FROM ledger_events WHERE seq BETWEEN {q} "  # noqa: S608
                                            f"AND {q} ORDER BY seq", (done[0].seq, done[-1].seq))}
            new = list(dict.fromkeys(a.pseudonym for a in done if a.pseudonym not in seen))
            seen.update(new)
            order = {p: i for i, p in enumerate(new)}
            for table in ("ledger_states", "ledger_vault"):
                found = _fetch(ledger.engine, f"SELECT * FROM {table} WHERE pseudonym IN "  # noqa: S608
                               f"({', '.join([q] * len(new))})", tuple(new)) if new else []
                part[table] = sorted(found, key=lambda r: order[r[0]])
            indexed_s += writer.write(part)
            for table in TABLES:
                rows[table] += part[table]
        writer.close()
        del events, batches
        rate, indexed = n / elapsed, n / indexed_s
        ledger.engine.dispose()
        base_all = _inserts(engine, {f"bare_{t}": rows[t] for t in TABLES}, n)
        base_events = _inserts(engine, {"bare_events_only": rows["ledger_events"]}, n)
        engine.dispose()
    ratio = rate / indexed
    return _result(f"append_batched_{kind}", rate, "events/s",
                   "executemany of the same rows (events, projection, vault) into the ledger's own layout "
                   "(keys, indexes) on the same engine, batch by batch between the ledger's", indexed, ratio,
                   "ratio >= 0.5", ratio >= 0.5,
                   engine=kind, events=n, batch=BATCH, append_stream=round(stream_rate),
                   append_stream_ratio=round(stream_rate / indexed, 3), bare_tables_baseline=round(base_all),
                   ratio_to_bare_tables=round(rate / base_all, 3), events_table_only_baseline=round(base_events),
                   ratio_to_events_table_only=round(rate / base_events, 3))


class _RawWriter:
    """Plain DBAPI executemany per table, one transaction per batch, with the service's
    connection settings (SQLite: the ledger's page cache and WAL checkpoint interval)."""

    def __init__(self, engine) -> None:
        self.raw = engine.raw_connection()
        self.q = mark(engine)
        self.cur = self.raw.cursor()
        if engine.dialect.name == "sqlite":
            for pragma in (f"cache_size=-{SQLITE_CACHE_KIB}", f"wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}"):
                self.cur.execute(f"PRAGMA {pragma}")
        self.raw.commit()
        # auditor.db's SQLite connections leave BEGIN to SQLAlchemy (the driver autocommits):
        # without it every row would be its own transaction.
        self.begin = "BEGIN" if engine.dialect.name == "sqlite" else None

    def write(self, parts: dict[str, list[tuple]]) -> float:
        """Seconds to write one batch's rows (per table) in one transaction."""
        t0 = time.perf_counter()
        if self.begin:
            self.cur.execute(self.begin)
        for t, part in parts.items():
            if part:
                self.cur.executemany(f"INSERT INTO {t} VALUES ({', '.join([self.q] * len(part[0]))})",  # noqa: S608
                                     part)
        self.raw.commit()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.raw.close()


def _inserts(engine, rows: dict[str, list[tuple]], n: int) -> float:
    """Events/s of ``_RawWriter`` over ``rows`` (per table) in batches of BATCH events."""
    writer = _RawWriter(engine)
    try:
        return n / sum(writer.write({t: table_rows[i:i + BATCH] for t, table_rows in rows.items()})
                       for i in range(0, n, BATCH))
    finally:
        writer.close()


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


def bench_import(folder: Path, path: Path, n: int, url: str, instance: Path, bulk: bool = False) -> dict:
    """`auditor ledger import [--bulk]` of an n-row CSV in a child process: peak memory and rate."""
    env = {**os.environ, "AUDITOR_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT),
           "AUDITOR_DATABASE_URL": url}
    args = ["-m", "auditor", "ledger", "import", str(path), "--json"] + (["--bulk"] if bulk else ["--no-bulk"])
    secs, rss, proc = _peak_rss(args, env, folder)
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    assert out["imported"] == n, out
    _, base_rss, _ = _peak_rss(["-c", _CHILD_BASELINE, str(path)], env, folder)
    mb, base_mb = rss / 2**20, base_rss / 2**20
    limit = 400 if bulk else 300
    return _result("import_csv_bulk_peak_memory" if bulk else "import_csv_peak_memory", mb, "MB",
                   "a child that loads the same libraries and reads the CSV", base_mb, mb / base_mb,
                   f"<= {limit} MB", mb <= limit, rows=n, seconds=round(secs, 1), rows_per_second=round(n / secs),
                   csv_mb=round(path.stat().st_size / 2**20, 1))


def bench_imports(folder: Path, n: int, kind: str, url: str, bulk_url: str) -> tuple[list[dict], Path]:
    """The streaming import and the bulk import of the same CSV, each into a fresh ledger."""
    path = folder / "consents.csv"
    if not path.exists():
        write_csv(path, n)
    stream = bench_import(folder, path, n, url, folder / f"instance-{kind}")
    bulk = bench_import(folder, path, n, bulk_url, folder / f"instance-{kind}-bulk", bulk=True)
    speedup = bulk["rows_per_second"] / stream["rows_per_second"]
    rate = _result(f"import_csv_bulk_{kind}", bulk["rows_per_second"], "rows/s",
                   "the streaming import of the same file on the same engine (rows/s)", stream["rows_per_second"],
                   speedup, ">= 20000 rows/s and >= 3x streaming", bulk["rows_per_second"] >= 20000 and speedup >= 3,
                   engine=kind, rows=n)
    return [stream, bulk, rate], folder / f"instance-{kind}-bulk"


def _instance_ledger(instance: Path, url: str) -> Ledger:
    from auditor import create_app
    from auditor.ledger.services import get_ledger

    app = create_app({"instance_path": str(instance), "database_url": url})
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


def bench_verify(ledger: Ledger) -> dict:
    """verify() of the whole ledger vs streaming the rows and hashing each event once."""
    import hashlib

    t = time.perf_counter()
    report = ledger.verify()
    secs = time.perf_counter() - t
    assert report.ok, report
    raw = ledger.engine.raw_connection()
    postgres = ledger.engine.dialect.name == "postgresql"
    limit = 60 if postgres else 30
    try:
        # A server-side cursor on PostgreSQL: the rows stream instead of filling memory.
        cur = raw.dbapi_connection.cursor(name="bench_verify") if postgres else raw.cursor()
        t = time.perf_counter()
        cur.execute("SELECT event FROM ledger_events ORDER BY seq")
        for (ev,) in cur:
            hashlib.sha256(b"\x00" + ev.encode()).digest()
        base = time.perf_counter() - t
        cur.close()
    finally:
        raw.close()
    return _result(f"verify_{ledger.engine.dialect.name}", secs, "s", "streaming every event and hashing it once",
                   base, secs / base, f"<= {limit} s at 1,000,000 events", secs <= limit, events=report.size,
                   checkpoints=report.checkpoints_checked)


def bench_states(ledger: Ledger, k: int, runs: int = 3) -> dict:
    """current_states of k recipients vs a raw indexed join through a temp table.

    Median of ``runs`` draws of k different recipients each, for both (a shared virtual
    machine's timings wander by a fifth from one run to the next).
    """
    raw = ledger.engine.raw_connection()
    conn = raw.cursor()
    q = mark(ledger.engine)
    kind = ledger.engine.dialect.name
    limit = 1.5 if kind == "postgresql" else 1
    conn.execute("SELECT pseudonym FROM ledger_states LIMIT 100")
    ledger.current_states([r[0] for r in conn.fetchall()], "email", "marketing")
    times, bases = [], []
    for run in range(runs):
        conn.execute(f"SELECT pseudonym FROM ledger_states ORDER BY random() LIMIT {q}", (k,))  # noqa: S608
        ps = [r[0] for r in conn.fetchall()]
        raw.commit()
        t = time.perf_counter()
        got = ledger.current_states(ps, "email", "marketing")
        times.append(time.perf_counter() - t)
        assert len(got) == len(ps)
        t = time.perf_counter()
        if kind == "sqlite":  # one transaction, as the driver autocommits on auditor.db's engines
            conn.execute("BEGIN")
        conn.execute(f"CREATE TEMP TABLE wanted{run} (p TEXT PRIMARY KEY)")
        conn.executemany(f"INSERT INTO wanted{run} VALUES ({q})", [(p,) for p in ps])  # noqa: S608
        conn.execute(f"SELECT s.* FROM wanted{run} w JOIN ledger_states s ON s.pseudonym = w.p "  # noqa: S608
                     "AND s.channel = 'email' AND s.purpose = 'marketing'")
        rows = conn.fetchall()
        bases.append(time.perf_counter() - t)
        raw.commit()
        assert len(rows) == len(ps)
        del got, rows
    raw.close()
    secs, base = statistics.median(times), statistics.median(bases)
    ratio = secs / base
    return _result(f"current_states_{kind}", secs, "s", "raw temp-table join on the primary key, same engine", base,
                   ratio, f"<= {limit} s for 100,000 recipients and <= 3x baseline", secs <= limit and ratio <= 3,
                   recipients=k,
                   ledger_events=ledger.size(), runs=[round(x, 3) for x in times],
                   baseline_runs=[round(x, 3) for x in bases])


def main() -> None:
    """Run every benchmark and print the JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both",
                        help="where to run every figure (PostgreSQL: a temporary database on the local server)")
    for name in ("append", "import", "states", "proofs"):
        parser.add_argument(f"--{name}-size", type=int, help=f"override the {name} size")
    args = parser.parse_args()
    sizes = ({"append": 20000, "import": 50000, "states": 10000, "proofs": 200} if args.quick else
             {"append": 200000, "import": 1000000, "states": 100000, "proofs": 1000})
    sizes.update({k: v for k in sizes if (v := getattr(args, f"{k}_size")) is not None})
    results = []
    versions = {}
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        folder = Path(tmp)
        for kind in engines_of(args.engine):
            results.append(bench_append(folder, sizes["append"], kind))
            with temp_database(kind, folder, "import") as url, temp_database(kind, folder, "bulk") as bulk_url:
                versions[kind] = server_version(url)
                imported, instance = bench_imports(folder, sizes["import"], kind, url, bulk_url)
                results.extend(imported)
                ledger = _instance_ledger(instance, bulk_url)
                results.append(bench_proofs(ledger, sizes["proofs"]))
                results.append(bench_states(ledger, sizes["states"]))
                results.append(bench_verify(ledger))
                ledger.engine.dispose()
    print(json.dumps({"bench": "ledger", "quick": args.quick, "sizes": sizes,
                      "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "engines": versions,
                                  # other work on the machine slows every figure and its baseline alike
                                  "load_average_before": [round(x, 1) for x in load_before],
                                  "load_average_after": [round(x, 1) for x in os.getloadavg()]},
                      "seconds": round(time.perf_counter() - started),
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
