"""A new unauthorised source is alerted once through monitoring's webhook; known ones are not."""

from __future__ import annotations

from datetime import UTC, datetime

from auditor.dmarc.services import ingest
from tests.auditor.dmarc.conftest import GOOGLE, MAILRU, YAHOO
from tests.auditor.dmarc.samples import DOMAIN, google, gz, mailru, yahoo
from tests.auditor.monitoring.conftest import webhook  # noqa: F401 - fixture

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_new_unauthorised_source_alerts_once(make_app, db_url, webhook):  # noqa: F811
    app = make_app(database_url=db_url, alert_webhook=webhook.url)
    clean = ingest(app, gz(yahoo(YAHOO)), via="test", now=NOW)
    assert clean.alerts == []
    first = ingest(app, gz(google(GOOGLE)), via="test", now=NOW)
    assert first.alerts == [{"channel": "webhook", "status": "sent", "error": None}]
    (hook,) = webhook.wait_for(1)
    doc = hook["json"]
    assert doc["event"] == "dmarc.unauthorised_source" and doc["target"] == DOMAIN
    assert [(x["ip"], x["messages"], x["reporter"]) for x in doc["sources"]] == [("203.0.113.5", 4, "google.com")]
    assert "203.0.113.5" in doc["text"]
    # Mail.ru reports the same spoofer: already known, no second alert.
    again = ingest(app, mailru(MAILRU), via="test", now=NOW)
    assert again.status == "imported" and again.alerts == []
    assert len(webhook.wait_for(2, timeout=0.5)) == 1
