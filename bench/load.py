"""Load on loopback: gate checks and consent appends against several WSGI workers.

Starts ``auditor serve --workers N`` (gunicorn) on SQLite (and with ``--postgres`` on a fresh
PostgreSQL database), sends a bounded mixed load (fixed request count, fixed deadline) from
keep-alive clients, then checks that no acknowledged append is missing and the ledger verifies.
The baseline, measured in the same run against the same server, is ``GET /healthz``.
Run ``python bench/load.py`` (full) or ``--quick``. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/dns.py would shadow dnspython.
sys.path[:] = [str(Path(__file__).resolve().parents[1])] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def _loop(tmp: Path, db_url: str, zone):
    from auditor import create_app
    from auditor.accounts.services import create_key, create_user
    from auditor.db import transaction
    from auditor.migrations import upgrade
    from tests.auditor.campaigns.loop import BLOCKLISTS, ROLE_SCOPES, Loop

    app = create_app({"instance_path": str(tmp / "instance"), "database_url": db_url, "TESTING": True,
                      "dns_nameservers": zone.nameserver, "dns_timeout": 1.0, "blocklists": BLOCKLISTS})
    upgrade(app.extensions["auditor"].engine)
    loop = Loop(app, app.test_client())
    for who, role in (("sender", "sender"), ("legal", "legal")):
        with transaction(app.extensions["auditor"].sessions) as s:
            user = create_user(s, f"{who}@auditor.test", role, "bench-password-1")
            loop.keys[who] = create_key(s, user, who, ROLE_SCOPES[role])[1]
    return loop


def _pg_database() -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    admin_url = os.environ.get("AUDITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"auditor_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def run(backend: str, quick: bool, workers: int) -> list[dict]:
    from checks.zone_server import ZoneServer
    from tests.auditor.campaigns.loop import DOMAIN, zone_text
    from tests.reliability.scenario import health_load, ledger_findings, mixed_load, prepare

    count = 1500 if quick else 10000
    with tempfile.TemporaryDirectory() as tmp, ZoneServer(zone_text(), DOMAIN) as zone:
        drop = None
        if backend == "postgresql":
            db_url, drop = _pg_database()
        else:
            db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            loop = _loop(Path(tmp), db_url, zone)
            sc = prepare(loop, db_url, recipients=2000 if quick else 20000, workers=workers)
            try:
                base = health_load(sc, count=count, concurrency=8, deadline_s=120)
                load = mixed_load(sc, count=count, concurrency=8, deadline_s=300)
            finally:
                sc.server.stop()
            found = ledger_findings(sc, load.acked)
            loop.app.extensions["auditor"].engine.dispose()
        finally:
            if drop:
                drop()
    s, b = load.summary(), base.summary()
    errors = s["gate_check"]["errors_5xx"] + s["consent_append"]["errors_5xx"] + load.connection_errors
    lost = found["acked_appends"] - found["found_appends"]
    return [
        {"metric": f"mixed_load_{backend}", "value": s["throughput_rps"], "unit": "requests/s",
         "baseline": {"what": "GET /healthz on the same server", "value": b["throughput_rps"]},
         "ratio": round(s["throughput_rps"] / b["throughput_rps"], 3) if b["throughput_rps"] else None,
         "target": "no 5xx, no lost events, ledger verifies", "met": errors == 0 and lost == 0 and found["verify_ok"],
         "detail": {"workers": workers, "load": s, "ledger": found}},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    results = run("sqlite", args.quick, args.workers)
    if args.postgres:
        results += run("postgresql", args.quick, args.workers)
    print(json.dumps({"bench": "load", "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
