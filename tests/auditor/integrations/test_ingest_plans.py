"""A new integration on a large PostgreSQL table, before ANALYZE knows it: each batch's own reads of
``delivery_events`` touch that batch's rows, not every event the integration stored so far.

Read by integration, the planner (whose statistics say the new integration has no events) took the
integration's index range and filtered it: each batch read all earlier batches, so onboarding a
large sender slowed with every batch. The statements ``ingest()`` runs are captured and run again
under ``EXPLAIN (ANALYZE)``; the rows each scan of ``delivery_events`` reads are counted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from auditor.db import transaction
from auditor.integrations.services import create_integration, ingest
from checks.providers import ProviderEvent

pytestmark = pytest.mark.postgres

BATCH = 200


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows every scan of delivery_events in a plan read (returned plus filtered out), all loops."""
    loops = plan.get("Actual Loops", 1)
    own = 0
    if plan.get("Relation Name") == "delivery_events" or "delivery_events" in plan.get("Index Name", ""):
        own = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
               + plan.get("Rows Removed by Index Recheck", 0)) * loops
    return own + sum(_rows_read(p) for p in plan.get("Plans", []))


def test_a_batch_reads_only_its_own_events_whatever_the_planner_knows(make_app, pg_url):
    app = make_app(database_url=pg_url)
    engine = app.extensions["auditor"].engine
    with transaction(app.extensions["auditor"].sessions) as s:
        old = create_integration(s, name="old", provider="sendgrid", actor="test")[0].id
        new = create_integration(s, name="new", provider="sendgrid", actor="test")[0]
    with engine.begin() as c:  # an established integration's 40,000 events, then statistics
        c.execute(sa.text(
            "INSERT INTO delivery_events (integration_id, inbox_id, provider_event_id, kind, provider_type, "
            "recipient_pseudonym, recipient_sha256, event_at, received_at) SELECT :i, i / 500, 'o' || i, "
            "'delivered', 'delivered', 'p' || i, 'h', now(), now() FROM generate_series(1, 40000) AS i"), {"i": old})
        c.execute(sa.text("ANALYZE delivery_events"))
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def batch(n: int) -> list[ProviderEvent]:
        kinds = ("processed", "delivered", "opened", "unsubscribe")  # unsubscribes: the exactly-once reads
        return [ProviderEvent(kind=kinds[i % 4], provider_type=kinds[i % 4], recipient=f"r{n}x{i // 4}@example.org",
                              event_id=f"n{n}-{i}", occurred_at=base + timedelta(seconds=i), esp_campaign=f"m{i // 4}")
                for i in range(BATCH)]

    for n in range(8):  # the new integration's first batches: statistics still say it has none
        ingest(app, new, batch(n), 90_000 + n)
    seen: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT") and "delivery_events" in statement:
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        ingest(app, new, batch(8), 90_008)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) >= 3  # the keys, the read-back of the stored ids, the exactly-once read
    with engine.connect() as c:
        for statement, parameters in seen:
            (plan,) = c.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
            read = _rows_read(plan["Plan"])
            assert read <= 2 * BATCH, (read, statement[:300], json.dumps(plan)[:2000])
