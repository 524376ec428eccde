"""Issue 13: the period report's unsubscribe latency measures only withdrawals with a measured time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consent_ledger import EventIn


def test_latency_ignores_imported_historical_withdrawals(app):
    from auditor.ledger.services import get_ledger
    from auditor.reports.services import period_data

    led = get_ledger(app)
    now = datetime.now(UTC)

    def withdraw(who: str, actor: str, claimed: datetime | None) -> None:
        led.append([EventIn(type="withdrawn", subject=who, channel="email", purpose="marketing",
                            claimed_at=claimed)], actor)

    withdraw("old@example.org", "cli:import", now - timedelta(days=273))  # a CRM export of last year
    withdraw("cli@example.org", "cli", now - timedelta(days=40))
    withdraw("api@example.org", "key:1:crm", now - timedelta(seconds=90))
    withdraw("link@example.org", "unsubscribe:campaign:1", None)
    today = now.date()
    data = period_data(app, today - timedelta(days=1), today)
    assert data.unsubscribes == 4
    assert sorted(round(s, -1) for s in data.unsubscribe_seconds)[0] == 0
    assert len(data.unsubscribe_seconds) == 2 and max(data.unsubscribe_seconds) < 600
