"""BULK-SPAM-RATE from the sending domain's delivery events when the document gives no stats."""

from __future__ import annotations

from tests.auditor.campaigns.loop import build_loop, campaign_doc


def _spam(r):
    assert r.status_code == 201, r.get_data(as_text=True)
    return [f for f in r.json["findings"] if f["rule_id"] == "BULK-SPAM-RATE"]


def test_measured_rate_is_used_and_named_without_stats(stream_sqlite):
    loop = stream_sqlite.hooks.loop
    (f,) = _spam(loop.submit(campaign_doc(["anna@example.org"])))
    ev = f["evidence"]
    # vera complained; anna, boris and vera were delivered by now (the late delivery is still ahead)
    assert ev["source"] == "delivery events" and ev["complaints"] == 1 and ev["delivered"] == 3
    assert ev["rate"] == 0.333333 and f["severity"] == "block"
    assert "delivery events" in f["detail"]


def test_the_documents_stats_win_and_say_so(stream_sqlite):
    loop = stream_sqlite.hooks.loop
    assert _spam(loop.submit(campaign_doc(["anna@example.org"], stats={"spam_rate": 0.0005}))) == []
    (f,) = _spam(loop.submit(campaign_doc(["anna@example.org"], stats={"spam_rate": 0.002})))
    assert f["evidence"]["source"] == "campaign stats" and f["severity"] == "warn"


def test_no_events_no_measured_rate(make_app, make_user, dns_server):
    loop = build_loop(make_app, make_user, dns_server)
    assert _spam(loop.submit(campaign_doc(["anna@example.org"]))) == []
