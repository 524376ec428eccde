"""Monitoring compares only what was observed: failed lookups keep the last known state, and a
failure is alerted only when it persists over two consecutive runs (stored, SQLite and PostgreSQL)."""

from __future__ import annotations

import copy

from auditor.monitoring import services as svc
from auditor.monitoring.diff import diff
from auditor.monitoring.observed import carry, effective, failure_changes, failures
from tests.auditor.monitoring.conftest import DOMAIN, IP, SELECTOR

DMARC = f"_dmarc.{DOMAIN}"
DKIM = f"{SELECTOR}._domainkey.{DOMAIN}"


def _audit(app):
    return svc.audit_and_record(app, "domain", DOMAIN, selectors=(SELECTOR,), ips=(IP,))


def _texts(outcome) -> list[str]:
    return [c.text for c in outcome.changes]


def test_a_transient_failure_raises_no_alert_and_no_resolved(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.dns.fail(DMARC, "servfail")
    env.dns.fail(DKIM, "refused")
    env.dns.resolver.drop.add("bl.test")  # no answer at all: a timeout
    failed = _audit(env.app)
    assert {"dmarc", f"dkim:{SELECTOR}", "bl:bl.test"} <= set(failures(failed.audit))
    assert failed.changes == [] and failed.alerts == []
    env.dns.resolver.drop.clear()
    env.dns.heal()
    recovered = _audit(env.app)
    assert recovered.changes == [], _texts(recovered)
    assert env.hook.wait_for(1, timeout=0.5) == []


def test_a_change_made_while_the_lookup_failed_is_told_against_the_last_known_state(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.dns.fail(DMARC, "servfail")
    assert _audit(env.app).changes == []
    env.dns.heal()
    env.publish(dmarc="none")  # weakened while unseen: compared with the reject seen two runs ago
    after = _audit(env.app)
    assert _texts(after) == ["DMARC policy changed from reject to none"]
    assert len(env.hook.wait_for(1)) == 1


def test_a_persistent_failure_alerts_once_and_its_end_once(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.dns.fail(DKIM, "servfail", "TXT")
    first, second, third = _audit(env.app), _audit(env.app), _audit(env.app)
    assert first.changes == [] and third.changes == []
    assert [c.kind for c in second.changes] == ["lookup_failed"]
    text = second.changes[0].text
    assert text.startswith(f"DKIM key of selector {SELECTOR}") and "2 consecutive runs" in text, text
    assert second.summary["failing"][f"dkim:{SELECTOR}"]["runs"] == 2
    assert third.summary["failing"][f"dkim:{SELECTOR}"]["runs"] == 3
    env.dns.heal()
    back = _audit(env.app)
    # the key never changed: no "appeared" or "resolved", only the end of the told failure
    assert [c.kind for c in back.changes] == ["lookup_recovered"], _texts(back)
    assert back.summary["failing"] == {}
    assert len(env.hook.wait_for(2)) == 2


def test_a_persistent_blocklist_error_is_one_alert_naming_the_list(monitoring, db_url):
    env = monitoring(db_url)
    env.publish(listed=True)
    _audit(env.app)
    env.dns.fail("bl.test", "servfail")
    assert _audit(env.app).changes == []
    second = _audit(env.app)
    assert [c.kind for c in second.changes] == ["lookup_failed"]
    assert second.changes[0].subject == "bl:bl.test"
    assert "blocklist bl.test" in second.changes[0].text.lower() and IP in second.changes[0].text
    assert second.summary["listed"] == {f"bl.test|{IP}": _first_since(env)}  # still listed since then


def _first_since(env) -> str:
    from auditor.services import services

    with services(env.app).sessions() as s:
        return svc.history(s, "domain", DOMAIN, limit=100)[-1]["checked_at"].isoformat(timespec="seconds")


def test_a_record_never_seen_is_not_reported_as_appearing(monitoring, db_url):
    env = monitoring(db_url)
    env.dns.fail(DMARC, "servfail")
    first = _audit(env.app)
    assert first.baseline and first.changes == []
    assert "dmarc" in first.summary["unknown"]
    env.dns.heal()
    assert _audit(env.app).changes == []
    # and once seen, a later disappearance is a real change
    env.publish(dmarc=None)
    assert _texts(_audit(env.app)) == ["DMARC record disappeared (policy was reject)"]


# --- the diff on documents of part A's DNS-LOOKUP-FAILED shape -------------------------------

def _doc(policy: str | None, *, failed: bool = False) -> dict:
    findings = []
    records = {"dmarc": {"record": f"v=DMARC1; p={policy}", "tags": {"p": policy}} if policy else None,
               "dkim": {}, "ptr": {}}
    if failed:
        records["dmarc"] = None
        findings.append({"rule_id": "DNS-LOOKUP-FAILED", "severity": "warn", "title": "DNS lookup failed",
                         "subject": f"domain:{DOMAIN}", "detail": "SERVFAIL",
                         "evidence": {"record": "dmarc", "name": DMARC, "rdtype": "TXT", "error": "SERVFAIL"}})
    elif policy is None:
        findings.append({"rule_id": "DMARC-MISSING", "severity": "block", "title": "No DMARC record",
                         "subject": f"domain:{DOMAIN}", "detail": "", "evidence": {}})
    return {"target": DOMAIN, "kind": "domain", "checked_at": "2026-11-30T00:00:00+00:00",
            "findings": findings, "records": records, "blocklists": []}


def test_lookup_failed_findings_carry_the_last_known_record():
    seen = _doc("reject")
    failed = _doc(None, failed=True)
    assert set(failures(failed)) == {"dmarc"}
    carried, unknown = carry(effective(seen, {}), failed)
    assert unknown == [] and carried["dmarc"]["record"]["tags"]["p"] == "reject"
    kept = effective(failed, {"carried": carried, "unknown": unknown})
    assert diff(kept, _doc("reject")) == []
    assert [c.text for c in diff(kept, _doc("none"))] == ["DMARC policy changed from reject to none"]
    assert diff(seen, failed) == [] and diff(failed, seen) == []
    assert "DNS-LOOKUP-FAILED" not in {f["rule_id"] for f in kept["findings"]}


def test_failure_state_counts_runs_and_tells_the_second():
    failed = _doc(None, failed=True)
    changes, state = failure_changes(None, failed, "t1")
    assert changes == [] and state["dmarc"]["runs"] == 1
    changes, state = failure_changes(state, copy.deepcopy(failed), "t2")
    assert [c[0] for c in changes] == ["lookup_failed"]
    assert "(_dmarc.shop.example TXT)" in changes[0][3] and "since t1" in changes[0][3]
    assert failure_changes(state, failed, "t3")[0] == []
    changes, state = failure_changes(None, _doc("reject"), "t4")
    assert changes == [] and state == {}


def test_a_narrower_audit_neither_ends_nor_extends_a_failure(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.dns.fail(DKIM, "servfail")
    _audit(env.app)
    told = _audit(env.app)
    assert [c.kind for c in told.changes] == ["lookup_failed"]
    narrow = svc.audit_and_record(env.app, "domain", DOMAIN)  # no selector, no IP looked at
    assert narrow.changes == [] and narrow.summary["failing"][f"dkim:{SELECTOR}"]["runs"] == 2
    assert _audit(env.app).changes == []  # the third failed run of the selector: silent
    env.dns.heal()
    assert [c.kind for c in _audit(env.app).changes] == ["lookup_recovered"]


def test_a_result_stored_before_carrying_treats_its_failed_lookups_as_unknown():
    failed = _doc(None, failed=True)
    legacy = effective(failed, {"block": 0, "listed": {}})  # no "carried"/"unknown" in the summary
    assert legacy["unknown"] == ["dmarc"]
    assert diff(legacy, _doc("reject")) == []


def test_failures_crossing_the_line_in_one_run_are_one_change(monitoring, db_url):
    env = monitoring(db_url)
    _audit(env.app)
    env.dns.fail(DMARC, "servfail")
    env.dns.fail(DKIM, "servfail")
    env.dns.fail("bl.test", "servfail")
    _audit(env.app)
    told = _audit(env.app)
    assert [c.kind for c in told.changes] == ["lookup_failed"], [c.text for c in told.changes]
    text = told.changes[0].text
    assert text.startswith("3 lookups failed (") and "their last known state is kept" in text
    assert all(w in text for w in ("DMARC record", f"selector {SELECTOR}", "blocklist bl.test")), text
    env.dns.heal()
    back = _audit(env.app)
    assert [c.kind for c in back.changes] == ["lookup_recovered"] and " answer again " in back.changes[0].text
