"""History, diffs and one alert per change set, with real audits against the loopback DNS server."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from auditor.monitoring import services as svc
from auditor.monitoring.models import Alert, AuditResult, ChangeEvent
from auditor.services import services
from tests.auditor.monitoring.conftest import DOMAIN, IP, SELECTOR


def _audit(app, **kw):
    return svc.audit_and_record(app, "domain", DOMAIN, selectors=(SELECTOR,), ips=(IP,), **kw)


def _count(app, model) -> int:
    with services(app).sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_clean_first_audit_is_a_silent_baseline_then_unchanged_audits_stay_silent(monitoring, db_url):
    env = monitoring(db_url)
    first = _audit(env.app)
    assert first.baseline and first.seq == 1 and first.changes == []
    assert first.summary["block"] == 0, first.to_dict()["findings"]
    second = _audit(env.app)
    assert not second.baseline and second.seq == 2 and second.changes == []
    assert env.hook.wait_for(1, timeout=0.5) == []
    with services(env.app).sessions() as s:
        hist = svc.history(s, "domain", DOMAIN)
    assert [h["seq"] for h in hist] == [2, 1] and all(h["changes"] == [] for h in hist)


def test_dkim_selector_disappearing_is_one_change_and_one_webhook(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.publish(dkim=False)
    changed = _audit(env.app)
    assert [c.text for c in changed.changes] == [f"DKIM selector {SELECTOR} disappeared"]
    assert changed.changes[0].severity == "block"
    assert [a["status"] for a in changed.alerts] == ["sent"]
    again = _audit(env.app)  # still missing: no new change, no new alert
    assert again.changes == [] and again.alerts == []
    bodies = env.hook.wait_for(1)
    assert len(bodies) == 1
    doc = bodies[0]["json"]
    assert bodies[0]["path"] == "/hooks/T0KEN" and bodies[0]["content_type"] == "application/json"
    assert doc["event"] == "posture.changed" and doc["target"] == DOMAIN
    assert doc["result_id"] == changed.result_id
    assert f"DKIM selector {SELECTOR} disappeared" in doc["text"]
    with services(env.app).sessions() as s:
        events = s.scalars(select(ChangeEvent)).all()
        alert = s.scalars(select(Alert)).one()
    assert [(e.result_id, e.kind) for e in events] == [(changed.result_id, "dkim_selector_removed")]
    assert alert.status == "sent" and "T0KEN" not in alert.destination


def test_listing_is_reported_with_its_start_time_kept_through_a_list_outage(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.publish(listed=True)
    listed = _audit(env.app)
    since = listed.audit.checked_at.isoformat(timespec="seconds")
    assert [c.text for c in listed.changes] == [f"IP {IP} listed on bl.test since {since} (127.0.0.2 listed — seen spamming)"]
    # the list stops answering: a query error is not a delisting, and nothing is alerted
    env.dns.resolver.drop.add("bl.test")
    outage = _audit(env.app)
    assert any(r["status"] == "error" for r in outage.to_dict()["blocklists"])
    assert outage.changes == []
    env.dns.resolver.drop.discard("bl.test")
    env.publish(listed=False)
    delisted = _audit(env.app)
    assert [c.text for c in delisted.changes] == [f"IP {IP} no longer listed on bl.test (listed since {since})"]
    assert len(env.hook.wait_for(2)) == 2
    assert _count(env.app, Alert) == 2


def test_dmarc_weakened_and_narrower_audits_report_only_what_changed(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.publish(dmarc="none")
    weakened = _audit(env.app)
    assert [c.text for c in weakened.changes] == ["DMARC policy changed from reject to none"]
    assert weakened.changes[0].severity == "warn"
    # an audit without the selector and the IP does not make them "disappear"
    narrower = svc.audit_and_record(env.app, "domain", DOMAIN)
    assert narrower.changes == []
    assert len(env.hook.wait_for(1)) == 1


def test_first_audit_with_block_findings_alerts_once(monitoring, db_url):
    env = monitoring(db_url)
    env.publish(dmarc=None, ptr=False)
    first = _audit(env.app)
    assert first.baseline
    texts = [c.text for c in first.changes]
    assert any(t.startswith("At first check: DMARC-MISSING") for t in texts), texts
    assert any(t.startswith("At first check: PTR-MISSING") for t in texts), texts
    bodies = env.hook.wait_for(1)
    assert len(bodies) == 1 and bodies[0]["json"]["event"] == "posture.baseline"
    assert _audit(env.app).changes == []
    assert len(env.hook.wait_for(2, timeout=0.5)) == 1


def test_failed_webhook_is_retried_by_the_next_run_and_sent_once(monitoring, db_url):
    from auditor.monitoring.scheduler import run_due

    env = monitoring(db_url)
    _audit(env.app)
    env.hook.status = 503
    env.publish(dkim=False)
    changed = _audit(env.app)
    assert changed.alerts[0]["status"] == "failed" and "503" in changed.alerts[0]["error"]
    env.hook.status = 200
    report = run_due(env.app)
    assert [a["status"] for a in report.alerts_retried] == ["sent"]
    assert run_due(env.app).alerts_retried == []
    assert len(env.hook.wait_for(1)) == 1


def test_email_alert_when_smtp_is_configured(monitoring, sqlite_url, smtp_server):
    env = monitoring(sqlite_url, smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
                     alert_email_to="security@shop.example")
    _audit(env.app)
    env.publish(dkim=False)
    changed = _audit(env.app)
    assert sorted(a["channel"] for a in changed.alerts) == ["email", "webhook"]
    assert all(a["status"] == "sent" for a in changed.alerts), changed.alerts
    assert len(smtp_server.messages) == 1
    rcpts, raw = smtp_server.messages[0]
    assert rcpts == ["security@shop.example"]
    assert f"DKIM selector {SELECTOR} disappeared".encode() in raw


def test_racing_stores_of_one_change_alert_once(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.publish(dkim=False)
    audits = [svc.perform_audit(env.app, "domain", DOMAIN, selectors=(SELECTOR,), ips=(IP,)) for _ in range(4)]
    barrier = threading.Barrier(len(audits))
    outcomes = []

    def store(audit) -> None:
        barrier.wait()
        outcomes.append(svc.record_audit(env.app, audit, source="test"))

    threads = [threading.Thread(target=store, args=(a,)) for a in audits]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.seq for o in outcomes) == [2, 3, 4, 5]
    assert sum(1 for o in outcomes if o.changes) == 1
    assert _count(env.app, Alert) == 1
    with services(env.app).sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditResult)) == 5


def test_latest_posture_reads_back_the_stored_audit(monitoring, db_url):
    env = monitoring(db_url)
    with services(env.app).sessions() as s:
        assert svc.latest_posture(s, DOMAIN) == (None, None)
    audit = svc.run_audit(env.app, DOMAIN, selectors=(SELECTOR,), ips=(IP,))
    with services(env.app).sessions() as s:
        posture, checked_at = svc.latest_posture(s, DOMAIN.upper() + ".")
    assert posture.to_dict() == audit.to_dict()
    assert checked_at == audit.checked_at


def test_a_listing_is_told_once_even_across_audits_that_skip_the_ip(monitoring, db_url):
    env = monitoring(db_url)
    env.publish(listed=True)
    svc.audit_and_record(env.app, "domain", DOMAIN, selectors=(SELECTOR,))  # baseline without the IP
    added = _audit(env.app)  # the IP is checked for the first time, and is listed: told
    assert [c.kind for c in added.changes] == ["blocklist_listed"]
    assert svc.audit_and_record(env.app, "domain", DOMAIN).changes == []  # the IP not looked at
    assert _audit(env.app).changes == []  # still listed since the same time: nothing new
    assert len(env.hook.wait_for(2, timeout=1)) == 1


def test_an_alert_whose_sender_died_mid_attempt_is_sent_by_a_later_run(monitoring, db_url):
    from datetime import timedelta

    from sqlalchemy import update

    from auditor.db import transaction, utcnow

    env = monitoring(db_url)
    _audit(env.app)
    env.hook.status = 503
    env.publish(dkim=False)
    alert_id = _audit(env.app).alerts[0]["id"]
    env.hook.status = 200
    with transaction(services(env.app).sessions) as s:  # as left by a process killed while sending
        s.execute(update(Alert).where(Alert.id == alert_id).values(status="sending", sent_at=utcnow()))
    assert svc.deliver_alerts(env.app) == []  # a fresh claim may still be in flight: left alone
    with transaction(services(env.app).sessions) as s:
        s.execute(update(Alert).where(Alert.id == alert_id).values(sent_at=utcnow() - timedelta(hours=1)))
    assert [a["status"] for a in svc.deliver_alerts(env.app)] == ["sent"]
    assert len(env.hook.wait_for(1)) == 1
