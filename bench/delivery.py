"""Benchmark of delivery KPIs: one campaign with 1,000,000 delivery events and a 30-day period of
one integration with 10,000,000, each beside the same-run raw SQL aggregate over the same events.

The baseline is one hand-written ``SELECT kind, count(*), count(DISTINCT recipient_pseudonym)
... GROUP BY kind`` over the same events (the least any KPI needs from the events: one pass).
Auditor's figure is the whole document (distinct-message counts, rates, p50/p95, the
after-withdrawal join; per day for the period), read from the message roll-up.
Events are generated in SQL (``generate_series`` / a recursive CTE) and rolled up by the
migration's back-fill statement (``rollup.backfill``, the SQL ingestion runs per batch); its time
is ``rollup_s``. ``ingest``: what the roll-up costs on the write side, events/s of the events
INSERT as ``ingest()`` runs it (batches of 500) without and with the roll-up upsert.
``domain``: a sending domain's 30-day figures and its measured spam rate (BULK-SPAM-RATE's source),
its campaign's events among the period's. Memory: tracemalloc's peak of the KPI call at two sizes
(flat = equal). ``ingest_with_history``: ``rollup.record`` of batches of 1,000 events to people
with 0, 30 and 120 days of history (SQLite, always).
Run ``python bench/delivery.py`` (full), ``--quick`` (100,000 and 1,000,000 events),
``--database-url`` for PostgreSQL (a fresh, empty database: the bench creates its tables there).
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

KINDS = "CASE i % 5 WHEN 0 THEN 'processed' WHEN 1 THEN (CASE WHEN (i / 5) % 50 = 0 THEN 'hard_bounce' " \
        "ELSE 'delivered' END) WHEN 2 THEN 'opened' WHEN 3 THEN 'deferred' ELSE (CASE WHEN (i / 5) % 1000 = 0 " \
        "THEN 'complaint' ELSE 'clicked' END) END"


def _fill(engine, first: int, count: int, campaign_id: int | None, days: int) -> float:
    """Insert ``count`` events numbered from ``first`` (5 per message), spread over ``days``, and roll
    them up; returns the seconds the roll-up took."""
    import sqlalchemy as sa

    from auditor.delivery.rollup import backfill
    from auditor.integrations.models import DeliveryEvent

    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    span = days * 86400 - 5  # + i % 5 seconds stays within the last day
    camp = "NULL" if campaign_id is None else str(campaign_id)
    chunk = 1_000_000
    with engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        after = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM delivery_events")).scalar()
        for lo in range(first, first + count, chunk):
            hi = min(first + count, lo + chunk) - 1
            if sqlite:
                # stored as SQLAlchemy stores a DateTime in SQLite (with microseconds)
                at = (f"datetime('{base:%Y-%m-%d %H:%M:%S}', '+' || ((i / 5) * 7919 % {span} + i % 5) || ' seconds')"
                      " || '.000000'")
                series = f"WITH RECURSIVE n(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM n WHERE i < {hi}) "  # noqa: S608
                src = "FROM n"
            else:
                at = f"TIMESTAMPTZ '{base.isoformat()}' + make_interval(secs => ((i / 5) * 7919 % {span} + i % 5))"
                series = ""
                src = f"FROM generate_series({lo}, {hi}) AS i"
            conn.execute(sa.text(
                f"{series}INSERT INTO delivery_events (integration_id, inbox_id, provider_event_id, kind, "  # noqa: S608
                f"provider_type, recipient_pseudonym, recipient_sha256, campaign_id, esp_campaign, reason, "
                f"event_at, received_at) SELECT 1, NULL, 'e' || i, {KINDS}, 'x', 'p' || (i / 5), 'h', {camp}, "
                f"'m' || (i / 5), NULL, {at}, {at} {src}"))
    t = time.perf_counter()
    with engine.begin() as conn:  # the migration's back-fill statement, over the new events
        backfill(conn, DeliveryEvent.__table__.c.id > after)
    took = time.perf_counter() - t
    with engine.begin() as conn:  # planner statistics after a bulk load (events and roll-up alike)
        conn.execute(sa.text("ANALYZE"))
    return took


def _baseline(engine, where: str) -> float:
    import sqlalchemy as sa

    t = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT kind, count(*), count(DISTINCT recipient_pseudonym) FROM delivery_events "  # noqa: S608
            f"WHERE {where} GROUP BY kind")).all()
    assert rows
    return time.perf_counter() - t


def _ingest(app, n: int) -> dict:
    """Events/s of ingest()'s events INSERT in batches of 500, without and with the roll-up upsert."""
    from auditor.db import dialect_insert, transaction
    from auditor.delivery.rollup import record
    from auditor.integrations.models import DeliveryEvent
    from auditor.integrations.services import create_integration, store_events

    kinds = ("processed", "delivered", "opened", "deferred", "clicked")
    now = datetime.now(UTC)
    sessions = app.extensions["auditor"].sessions
    out = {"events": n}
    for label, roll in (("without_rollup", False), ("with_rollup", True), ("without_rollup_again", False)):
        with transaction(sessions) as s:
            iid = create_integration(s, name=f"ingest-{label}", provider="sendgrid", actor="bench")[0].id
        t = time.perf_counter()
        for b, lo in enumerate(range(0, n, 500)):
            rows = [{"integration_id": iid, "inbox_id": b, "provider_event_id": f"i{i}", "kind": kinds[i % 5],
                     "provider_type": kinds[i % 5], "recipient_pseudonym": f"q{i // 5}", "recipient_sha256": "h",
                     "esp_campaign": f"m{i // 5}", "campaign_id": None, "reason": None,
                     "event_at": now - timedelta(seconds=n - i), "received_at": now} for i in range(lo, min(n, lo + 500))]
            with transaction(sessions) as s:
                table = DeliveryEvent.__table__
                if roll:  # as ingest() runs it: the stored rows' ids read back for the roll-up
                    record(s, iid, store_events(s, rows, b))
                else:
                    s.execute(dialect_insert(s)(table).on_conflict_do_nothing(
                        index_elements=["integration_id", "provider_event_id"]), rows)
        out[f"{label}_per_s"] = round(n / (time.perf_counter() - t))
    base = (out["without_rollup_per_s"] + out["without_rollup_again_per_s"]) / 2
    out["ratio_with_to_without"] = round(out["with_rollup_per_s"] / base, 2)
    return out


def _history(days_list=(0, 30, 120), people: int = 200) -> dict:
    """What one batch's roll-up costs as recipients' history grows: ``people`` recipients with one
    message a day (processed, delivered: never opened) for N days, then batches of 1,000 events
    (a new message each, opened and clicked for the first time: every person's previous opened
    day is looked for, back through all N days). Seconds of ``rollup.record`` per batch, at each N,
    each in a fresh SQLite database."""

    from auditor import create_app
    from auditor.db import transaction
    from auditor.delivery.rollup import backfill, record
    from auditor.integrations.models import DeliveryEvent
    from auditor.integrations.services import create_integration, store_events
    from auditor.migrations import upgrade

    kinds = ("processed", "delivered", "opened", "clicked", "deferred")
    now = datetime.now(UTC).replace(microsecond=0)
    out = {}
    for days in days_list:
        app = create_app({"instance_path": tempfile.mkdtemp(prefix="bench-history-"), "log_level": "WARNING"})
        upgrade(app.extensions["auditor"].engine)
        sessions = app.extensions["auditor"].sessions
        with transaction(sessions) as s:
            iid = create_integration(s, name="history", provider="sendgrid", actor="bench")[0].id
        table = DeliveryEvent.__table__
        old = [{"integration_id": iid, "inbox_id": None, "provider_event_id": f"h{d}-{p}-{k}", "kind": kinds[k],
                "provider_type": kinds[k], "recipient_pseudonym": f"q{p}", "recipient_sha256": "h",
                "esp_campaign": f"old{d}", "campaign_id": None, "reason": None,
                "event_at": now - timedelta(days=d, seconds=60 - k), "received_at": now}
               for d in range(1, days + 1) for p in range(people) for k in range(2)]
        with app.extensions["auditor"].engine.begin() as conn:
            if old:
                conn.execute(table.insert(), old)
            backfill(conn)
        took = []
        for b in range(3):
            rows = [{"integration_id": iid, "inbox_id": 1_000 + b, "provider_event_id": f"n{b}-{i}",
                     "kind": kinds[i % 5], "provider_type": kinds[i % 5], "recipient_pseudonym": f"q{i // 5}",
                     "recipient_sha256": "h", "esp_campaign": f"new{b}", "campaign_id": None, "reason": None,
                     "event_at": now - timedelta(seconds=30 - i % 5), "received_at": now}
                    for i in range(people * 5)]
            with transaction(sessions) as s:
                ids = store_events(s, rows, 1_000 + b)
                t = time.perf_counter()
                record(s, iid, ids)
                took.append(time.perf_counter() - t)
        out[f"{days}_days"] = {"first_batch_s": round(took[0], 4), "mean_s": round(sum(took) / len(took), 4)}
    return out


def _timed(fn) -> tuple[float, int, object]:
    tracemalloc.start()
    t = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 and 1,000,000 events")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    campaign_n, period_n = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)

    sys.path.insert(0, str(HERE))
    from gate import _approved_campaign  # the gate bench's approved-campaign row

    from auditor import create_app
    from auditor.db import transaction
    from auditor.delivery import services as svc
    from auditor.integrations.services import create_integration
    from auditor.migrations import upgrade

    folder = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    cfg = {"instance_path": str(folder), "log_level": "WARNING"}
    if args.database_url:
        cfg["database_url"] = args.database_url
    app = create_app(cfg)
    engine = app.extensions["auditor"].engine
    upgrade(engine)
    with app.app_context():
        _approved_campaign(app)  # campaign 1
    with transaction(app.extensions["auditor"].sessions) as s:
        create_integration(s, name="bench", provider="sendgrid", actor="bench")
    result: dict = {"database": engine.dialect.name, "quick": args.quick, "python": platform.python_version(),
                    "at": datetime.now(UTC).isoformat(timespec="seconds")}

    # memory at a tenth of the size first, then the full size: flat when the peaks match
    t = time.perf_counter()
    rollup = _fill(engine, 0, campaign_n // 10, 1, 30)
    with app.extensions["auditor"].sessions() as s:
        _e, small_peak, _ = _timed(lambda: svc.campaign_kpis(s, 1))
    rollup += _fill(engine, campaign_n // 10, campaign_n - campaign_n // 10, 1, 30)
    fill_campaign = time.perf_counter() - t
    with app.extensions["auditor"].sessions() as s:
        svc.campaign_kpis(s, 1)  # warm
        elapsed, peak, doc = _timed(lambda: svc.campaign_kpis(s, 1))
    base = min(_baseline(engine, "campaign_id = 1") for _ in range(2))
    result["campaign"] = {"events": campaign_n, "fill_s": round(fill_campaign, 1), "rollup_s": round(rollup, 1),
                          "kpis_s": round(elapsed, 3),
                          "raw_sql_s": round(base, 3), "ratio": round(elapsed / base, 2),
                          "peak_bytes": peak, "peak_bytes_at_tenth": small_peak, "delivered": doc["counts"]["delivered"]}

    t = time.perf_counter()
    rollup = _fill(engine, campaign_n, period_n - campaign_n, None, 30)  # the campaign's events count too
    fill_period = time.perf_counter() - t
    today = datetime.now(UTC).date()
    start: date = today - timedelta(days=29)
    with app.extensions["auditor"].sessions() as s:
        elapsed, peak, doc = _timed(lambda: svc.integration_kpis(s, "bench", start, today))
    lo = datetime.combine(start, datetime.min.time(), UTC)
    where = f"integration_id = 1 AND event_at >= '{lo:%Y-%m-%d %H:%M:%S}'"
    if engine.dialect.name != "sqlite":
        where = f"integration_id = 1 AND event_at >= TIMESTAMPTZ '{lo.isoformat()}'"
    base = min(_baseline(engine, where) for _ in range(2))
    result["period"] = {"events": period_n, "days": len(doc["days"]), "fill_s": round(fill_period, 1),
                        "rollup_s": round(rollup, 1),
                        "kpis_s": round(elapsed, 3), "raw_sql_s": round(base, 3), "ratio": round(elapsed / base, 2),
                        "peak_bytes": peak, "sent": doc["counts"]["sent"]}
    # a sending domain's figures over the same 30 days: its campaign's events among all the others
    # (read from the message rows: its campaigns are linked when read)
    with app.extensions["auditor"].sessions() as s:
        domain = svc.sending_domains(s)[0]
        elapsed, peak, doc = _timed(lambda: svc.domain_kpis(s, domain, start, today))
        spam_s, _p, _r = _timed(lambda: svc.domain_spam_rate(s, domain, datetime.now(UTC)))
    result["domain"] = {"events": campaign_n, "kpis_s": round(elapsed, 3), "spam_rate_s": round(spam_s, 3),
                        "peak_bytes": peak, "sent": doc["counts"]["sent"]}
    result["ingest"] = _ingest(app, 20_000 if args.quick else 100_000)
    result["ingest_with_history"] = _history()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
