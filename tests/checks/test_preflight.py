"""Zone preflight: a proposed zone is served on loopback and audited as published."""

from __future__ import annotations

import pytest

from checks.blocklists import parse_blocklists
from checks.preflight import ZoneError, preflight_zone
from tests.checks.conftest import BASE, DOMAIN, GOOD, SENDER_IP, ids


def test_proposed_zone_is_audited() -> None:
    audit = preflight_zone(BASE + GOOD, DOMAIN, ips=[SENDER_IP])
    assert not audit.blocked
    assert audit.records["spf"]["check_host"] == {SENDER_IP: "pass"}
    assert audit.blocklists == []  # none unless named: the internet is not reachable from here
    # the policy host is not live before publishing: said so, as a warning
    assert [f.detail for f in audit.findings if f.rule_id == "MTA-STS-INVALID"][0].endswith("check it after publishing")


def test_a_bad_change_is_caught_before_publishing() -> None:
    audit = preflight_zone(BASE + GOOD.replace("-all", "+all"), DOMAIN)
    assert "SPF-PASS-ALL" in ids(audit.findings) and audit.blocked


def test_named_blocklists_served_by_the_zone() -> None:
    text = BASE + GOOD + "2.0.0.127.bl.test. IN A 127.0.0.2\n10.2.0.192.bl.test. IN A 127.0.0.2\n"
    audit = preflight_zone(text, DOMAIN, ips=[SENDER_IP], blocklists=parse_blocklists("ip:bl.test"))
    assert "BL-IP-LISTED" in ids(audit.findings)


def test_origin_with_trailing_dot_and_relative_names() -> None:
    audit = preflight_zone('@ IN TXT "v=spf1 -all"\n', DOMAIN + ".")
    assert audit.target == DOMAIN and audit.records["spf"]["record"] == "v=spf1 -all"


def test_bad_zone_text() -> None:
    with pytest.raises(ZoneError):
        preflight_zone("@ IN MX bogus\n", DOMAIN)
