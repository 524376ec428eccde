"""Alerts a person can act on: one per real change, signed webhook bodies verified with the lines
of docs/monitoring.md against a real local receiver, and ``monitor run`` failing on undelivered alerts."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from auditor.monitoring import alerts as alerting
from auditor.monitoring import services as svc
from tests.auditor.monitoring.conftest import DOMAIN, IP, SELECTOR
from tests.conftest import Runner

SECRET = "0f9c2d-test-secret"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "monitoring.md"


def _audit(app):
    return svc.audit_and_record(app, "domain", DOMAIN, selectors=(SELECTOR,), ips=(IP,))


def documented_verify() -> Any:
    """The ``verify`` function exactly as docs/monitoring.md gives it."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    code = next(b for b in blocks if "def verify(" in b)
    scope: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), scope)  # noqa: S102 - our own documentation
    return scope["verify"]


def test_webhook_bodies_are_signed_and_the_documented_lines_verify_them(monitoring, db_url):
    env = monitoring(db_url, alert_webhook_secret=SECRET)
    _audit(env.app)
    env.publish(dkim="revoked")
    changed = _audit(env.app)
    # a revocation is one change, in one alert
    assert [c.kind for c in changed.changes] == ["dkim_key_changed"]
    assert changed.changes[0].severity == "block" and "DKIM-KEY-REVOKED" in changed.changes[0].text
    assert _audit(env.app).changes == []
    [got] = env.hook.wait_for(1)
    headers, body = got["headers"], got["body"]
    stamp = headers["x-auditor-timestamp"]
    assert abs(time.time() - int(stamp)) < 120
    assert headers["x-auditor-signature"] == alerting.signature(SECRET, stamp, body)
    verify = documented_verify()
    assert verify(SECRET, headers, body)
    assert not verify("another secret", headers, body)
    assert not verify(SECRET, headers, body.replace(b"revoked", b"rotated"))
    assert not verify(SECRET, {**headers, "x-auditor-timestamp": str(int(stamp) + 1)}, body)
    assert not verify(SECRET, {k: v for k, v in headers.items() if k != "x-auditor-signature"}, body)
    doc = json.loads(body)
    assert doc["text"].count("\n- ") == 1 and f"selector {SELECTOR}" in doc["text"]


def test_a_replayed_old_body_fails_verification(webhook):
    alerting.send_webhook(webhook.url, {"event": "posture.changed"}, secret=SECRET, now=time.time() - 3600)
    [got] = webhook.wait_for(1)
    verify = documented_verify()
    assert got["headers"]["x-auditor-signature"] == alerting.signature(
        SECRET, got["headers"]["x-auditor-timestamp"], got["body"])
    assert not verify(SECRET, got["headers"], got["body"])  # signed, but an hour ago
    assert verify(SECRET, got["headers"], got["body"], tolerance=7200)


def test_without_a_secret_bodies_go_unsigned(monitoring, sqlite_url):
    env = monitoring(sqlite_url)
    _audit(env.app)
    env.publish(dkim=False)
    _audit(env.app)
    [got] = env.hook.wait_for(1)
    assert "x-auditor-signature" not in got["headers"]
    assert not documented_verify()(SECRET, got["headers"], got["body"])


def test_listing_alert_names_the_list_and_the_reason(monitoring, db_url):
    env = monitoring(db_url)
    env.publish(listed=True)
    first = _audit(env.app)  # a baseline with a listing alerts, naming list and reason
    [line] = [c.text for c in first.changes if "BL-IP-LISTED" in c.text]
    assert "bl.test" in line and "seen spamming" in line and IP in line


def test_monitor_run_exits_1_naming_the_channel_when_an_alert_is_not_delivered(monitoring, db_url):
    env = monitoring(db_url)
    cli = Runner(env.app)
    assert cli.invoke(["monitor", "add", "domain", DOMAIN, "--selector", SELECTOR, "--ip", IP]).exit_code == 0
    assert cli.invoke(["monitor", "run"]).exit_code == 0  # the silent baseline
    env.hook.status = 503
    env.publish(dkim=False)
    failed = cli.invoke(["monitor", "run", "--json"])
    assert failed.exit_code == 1
    assert f"alert by webhook for {DOMAIN} not delivered: webhook answered 503" in failed.stderr
    assert json.loads(failed.stdout)["results"][0]["alerts"][0]["status"] == "failed"
    # the next run retries it; still refused: still 1, naming the channel
    again = cli.invoke(["monitor", "run"])
    assert again.exit_code == 1 and "by webhook not delivered: webhook answered 503" in again.stderr
    env.hook.status = 200
    ok = cli.invoke(["monitor", "run"])
    assert ok.exit_code == 0 and ok.stderr == "", ok.stderr
    assert len(env.hook.wait_for(1)) == 1


def test_the_secret_is_read_from_auditor_alert_webhook_secret(monkeypatch, tmp_path):
    from auditor.config import Settings

    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("AUDITOR_ALERT_WEBHOOK_SECRET", SECRET)
    assert Settings().alert_webhook_secret == SECRET
