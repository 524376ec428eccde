"""Events link to their campaign by the Auditor unsubscribe URL they carry (a verified token only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.auditor.delivery.conftest import sg


def test_a_click_on_the_unsubscribe_url_links_the_event(stream_sqlite):
    h = stream_sqlite.hooks
    r = h.loop.gate(h.token, ["anna@example.org"])
    assert r.status_code == 200, r.get_data(as_text=True)
    url = r.json["allowed"][0]["unsubscribe_url"]
    assert "/u/" in url
    forged = url[:-6] + ("AAAAAA" if not url.endswith("AAAAAA") else "BBBBBB")
    now = datetime.now(UTC)
    body = [sg("anna@example.org", "click", now, "a-unsub-click", "m-x", None, url=url),
            sg("anna@example.org", "click", now, "a-forged-click", "m-y", None, url=forged)]
    assert h.post("sendgrid", json.dumps(body).encode()).status_code == 200
    assert h.count("delivery_events", f"provider_event_id = 'a-unsub-click' AND campaign_id = {h.campaign_id}") == 1
    assert h.count("delivery_events", "provider_event_id = 'a-forged-click' AND campaign_id IS NULL") == 1
