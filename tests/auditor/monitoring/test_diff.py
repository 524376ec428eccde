"""The diff between two real audits of the test zone: one human line per thing that changed."""

from __future__ import annotations

import pytest

from auditor.monitoring.diff import baseline_changes, diff, failed_lookups, listed_state
from auditor.monitoring.services import perform_audit
from tests.auditor.monitoring.conftest import DOMAIN, IP, SELECTOR


@pytest.fixture
def env(monitoring, sqlite_url):
    """The app resolving through the test zone (no database work in these tests)."""
    return monitoring(sqlite_url)


def _audit(env, **zone_kw):
    env.publish(**zone_kw)
    return perform_audit(env.app, "domain", DOMAIN, selectors=(SELECTOR,), ips=(IP,))


@pytest.mark.parametrize("change, lines", [
    ({"spf": f"v=spf1 ip4:{IP} ?all"},
     [f'SPF record changed from "v=spf1 ip4:{IP} -all" to "v=spf1 ip4:{IP} ?all" (SPF-NEUTRAL-ALL: ']),
    ({"mx": "mx2"}, ["MX hosts changed: added mx2.shop.example; removed mail.shop.example",
                     f"PTR of {IP} changed from mail.shop.example to mx2.shop.example"]),
    ({"ptr": False}, [f"PTR of {IP} changed from mail.shop.example to (none)"]),
    ({"dkim": "1024"}, [f"DKIM key of selector {SELECTOR} changed from 2048-bit RSA to 1024-bit RSA (DKIM-KEY-SHORT: "]),
    # a revocation is one change (the key's line names the finding it raises), not several
    ({"dkim": "revoked"}, [f"DKIM key of selector {SELECTOR} changed from 2048-bit RSA to revoked (DKIM-KEY-REVOKED: "]),
    ({"dmarc": None}, ["DMARC record disappeared (policy was reject)"]),
    ({"dmarc": "quarantine"}, ["DMARC policy changed from reject to quarantine"]),
    ({"domain_listed": True}, [f"Domain {DOMAIN} listed on dbl.test since"]),
])
def test_each_kind_of_change_has_its_line(env, change, lines):
    before = _audit(env)
    after = _audit(env, **change)
    texts = sorted(c.text for c in diff(before, after))
    assert len(texts) == len(lines), texts
    for text, start in zip(texts, sorted(lines), strict=True):
        assert text.startswith(start), texts


def test_no_change_no_lines_and_reverting_is_a_change_back(env):
    a = _audit(env)
    assert diff(a, _audit(env)) == []
    b = _audit(env, dkim=False)
    c = _audit(env)
    assert [x.text for x in diff(b, c)] == [f"DKIM selector {SELECTOR} appeared (2048-bit RSA)"]
    assert diff(None, c) == []


def test_findings_of_selectors_and_ips_checked_only_once_are_not_changes(env):
    narrow = perform_audit(env.app, "domain", DOMAIN)
    env.publish(ptr=False, dkim=False)
    wide = perform_audit(env.app, "domain", DOMAIN, selectors=(SELECTOR,), ips=(IP,))
    assert {f.rule_id for f in wide.findings} >= {"PTR-MISSING", "DKIM-KEY-MISSING"}
    assert diff(narrow, wide) == [] and diff(wide, narrow) == []


def test_listed_state_keeps_the_start_through_errors_and_drops_it_when_clean(env):
    first = _audit(env, listed=True)
    key = f"bl.test|{IP}"
    state = listed_state({}, first)
    assert state == {key: first.checked_at.isoformat(timespec="seconds")}
    env.dns.resolver.drop.add("bl.test")
    errored = perform_audit(env.app, "domain", DOMAIN, selectors=(SELECTOR,), ips=(IP,))
    assert listed_state(state, errored) == state
    env.dns.resolver.drop.discard("bl.test")
    assert listed_state(state, _audit(env, listed=False)) == {}


def test_a_failed_lookup_is_unknown_not_a_change(env):
    ok = _audit(env)
    env.dns.resolver.drop.update({f"_dmarc.{DOMAIN}", f"{SELECTOR}._domainkey.{DOMAIN}"})
    timed_out = perform_audit(env.app, "domain", DOMAIN, selectors=(SELECTOR,), ips=(IP,))
    assert {"dmarc", f"dkim:{SELECTOR}"} <= failed_lookups(timed_out)
    assert diff(ok, timed_out) == [] and diff(timed_out, ok) == []
    assert baseline_changes(timed_out) == []
