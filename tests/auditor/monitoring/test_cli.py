"""``auditor monitor add|list|remove|run`` and ``auditor worker``, as an operator types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select

from auditor.db import transaction
from auditor.monitoring import services as svc
from auditor.monitoring.models import AuditResult, MonitoredAsset
from auditor.services import services
from tests.auditor.monitoring.conftest import DOMAIN, IP, SELECTOR
from tests.conftest import Runner


def _json(result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_list_remove_with_the_selector_forms(monitoring, sqlite_url):
    env = monitoring(sqlite_url)
    cli = Runner(env.app)
    added = _json(cli.invoke(["monitor", "add", "domain", DOMAIN.upper() + ".", "--selector", SELECTOR,
                              "--ip", IP, "--interval", "30", "--json"]))
    assert added["created"] and added["value"] == DOMAIN and added["interval_minutes"] == 30
    merged = _json(cli.invoke(["monitor", "add", "selector", f"{DOMAIN}:s2", "--json"]))
    assert not merged["created"] and merged["selectors"] == [SELECTOR, "s2"] and merged["ips"] == [IP]
    assert _json(cli.invoke(["monitor", "add", "selector", "s3", "--domain", DOMAIN, "--json"]))["selectors"] == [
        SELECTOR, "s2", "s3"]
    _json(cli.invoke(["monitor", "add", "ip", IP, "--json"]))
    listed = _json(cli.invoke(["monitor", "list", "--json"]))
    assert [(a["kind"], a["value"]) for a in listed] == [("domain", DOMAIN), ("ip", IP)]
    human = cli.invoke(["monitor", "list"])
    assert "selectors s1,s2,s3" in human.output and "every 30 min" in human.output
    r = cli.invoke(["monitor", "remove", "selector", f"{DOMAIN}:s2"])
    assert r.exit_code == 0 and "stopped monitoring selector s2" in r.output
    r = cli.invoke(["monitor", "remove", "ip", IP])
    assert r.exit_code == 0
    listed = _json(cli.invoke(["monitor", "list", "--json"]))
    assert [(a["value"], a["selectors"]) for a in listed] == [(DOMAIN, [SELECTOR, "s3"])]


@pytest.mark.parametrize("args, reason", [
    (["monitor", "add", "domain", "not a domain"], "not a domain name"),
    (["monitor", "add", "ip", "300.1.2.3"], "not an IP address"),
    (["monitor", "add", "selector", "s1"], "DOMAIN:SELECTOR"),
    (["monitor", "add", "domain", DOMAIN, "--interval", "1"], "at least 5 minutes"),
    (["monitor", "remove", "domain", "nowhere.example"], "is not monitored"),
])
def test_bad_input_is_one_line_and_exit_2(monitoring, sqlite_url, args, reason):
    env = monitoring(sqlite_url)
    r = Runner(env.app).invoke(args)
    assert r.exit_code == 2
    assert reason in r.stderr and r.stderr.count("\n") == 1


def test_run_inline_reports_baseline_then_changes_once(monitoring, sqlite_url):
    env = monitoring(sqlite_url)
    cli = Runner(env.app)
    _json(cli.invoke(["monitor", "add", "domain", DOMAIN, "--selector", SELECTOR, "--ip", IP, "--json"]))
    first = _json(cli.invoke(["monitor", "run", "--due-only", "--json"]))
    assert first["mode"] == "inline" and len(first["claimed"]) == 1
    assert first["results"][0]["baseline"] and first["results"][0]["changes"] == []
    assert _json(cli.invoke(["monitor", "run", "--due-only", "--json"]))["claimed"] == []  # not due again yet
    env.publish(dkim=False)
    forced = cli.invoke(["monitor", "run"])  # without --due-only: everything now
    assert forced.exit_code == 0, forced.output
    assert f"DKIM selector {SELECTOR} disappeared" in forced.output and "alert by webhook: sent" in forced.output
    assert len(env.hook.wait_for(1)) == 1
    assert cli.invoke(["monitor", "remove", "domain", DOMAIN]).exit_code == 0
    with services(env.app).sessions() as s:  # no longer monitored, the history stays
        view = svc.posture_view(s, "domain", DOMAIN)
    assert view["monitored"] is None and [h["seq"] for h in view["history"]] == [2, 1]


def test_worker_needs_a_broker(monitoring, sqlite_url):
    env = monitoring(sqlite_url)
    r = Runner(env.app).invoke(["worker"])
    assert r.exit_code == 2 and "AUDITOR_BROKER_URL is not set" in r.stderr and r.stderr.count("\n") == 1


def _add_assets(app, n: int) -> list[int]:
    with transaction(services(app).sessions) as s:
        return [svc.add_asset(s, "domain", f"d{i}.{DOMAIN}", ips=[IP])[0].id for i in range(n)]


def test_racing_claims_take_each_due_asset_once(monitoring, db_url):
    env = monitoring(db_url)
    ids = _add_assets(env.app, 30)
    barrier = threading.Barrier(4)
    claims: list[list[int]] = []

    def claim() -> None:
        barrier.wait()
        claims.append(svc.claim_assets(env.app, due_only=True))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    taken = [i for c in claims for i in c]
    assert sorted(taken) == sorted(ids), claims  # every asset claimed, none twice
    assert svc.claim_assets(env.app, due_only=True) == []


def _cli_env(env, db_url: str) -> dict[str, str]:
    s = services(env.app).settings
    return {**os.environ, "AUDITOR_INSTANCE_PATH": str(s.instance_path), "AUDITOR_DATABASE_URL": db_url,
            "AUDITOR_DNS_NAMESERVERS": s.dns_nameservers, "AUDITOR_DNS_TIMEOUT": "1.0",
            "AUDITOR_BLOCKLISTS": s.blocklists, "AUDITOR_ALERT_WEBHOOK": s.alert_webhook, "AUDITOR_LOG_LEVEL": "WARNING"}


def test_two_cron_runs_at_once_audit_each_asset_once(monitoring, db_url, tmp_path):
    env = monitoring(db_url)
    ids = _add_assets(env.app, 24)
    env.dns.resolver.delays[DOMAIN] = 0.01  # audits take a while, so the two runs overlap
    procs = [subprocess.Popen([sys.executable, "-m", "auditor", "monitor", "run", "--due-only", "--json"],
                              env=_cli_env(env, db_url), cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    reports = [json.loads(o[0]) for o in outs]
    claimed = [i for r in reports for i in r["claimed"]]
    assert sorted(claimed) == sorted(ids)
    with services(env.app).sessions() as s:
        per_asset = dict(s.execute(select(AuditResult.asset_id, func.count()).group_by(AuditResult.asset_id)).all())
        assert per_asset == {i: 1 for i in ids}
        assert all(a.last_checked_at is not None for a in s.scalars(select(MonitoredAsset)))
