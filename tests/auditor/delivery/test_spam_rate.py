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


def test_postmaster_export_is_another_source(make_app, make_user, dns_server, tmp_path):
    from datetime import UTC, datetime, timedelta

    from tests.auditor.delivery.test_cli import run

    loop = build_loop(make_app, make_user, dns_server)
    today = datetime.now(UTC).date()
    path = tmp_path / "postmaster.csv"
    path.write_text("Date,User Reported Spam Rate\n"
                    f"{today - timedelta(days=1)},0.2%\n{today - timedelta(days=2)},0.4%\n"
                    f"{today - timedelta(days=90)},9%\nnot a date,1%\n", encoding="utf-8")
    r = run(loop.app, ["postmaster-import", "shop.example", str(path), "--json"])
    assert r.exit_code == 1 and '"days": 3' in r.output and '"bad_lines": [\n    5\n  ]' in r.output
    (f,) = _spam(loop.submit(campaign_doc(["anna@example.org"])))
    # the 30-day mean of 0.2% and 0.4% (the 90-day-old row is outside)
    assert f["evidence"]["source"] == "postmaster tools" and f["evidence"]["rate"] == 0.003
    assert f["evidence"]["days"] == 2 and f["severity"] == "warn"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    r = run(loop.app, ["postmaster-import", "shop.example", str(bad)])
    assert r.exit_code == 2 and "spam rate column" in r.output
