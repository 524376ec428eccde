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


# --- readable errors with line numbers; text that is not the origin's zone is refused ------------

@pytest.mark.parametrize(("text", "line", "reason"), [
    ("@ IN MX bogus\n", 1, "expecting an integer"),
    ('; proposed\n@ IN TXT "v=spf1; -all"\n\n@ IN TXTT "x"\n', 4, "unknown rdatatype 'TXTT'"),
    ("@ IN SOA ns hm (\n 1 2 3\n 4 5 )\nwww IN CNAME\n", 4, "expecting an identifier"),
    ("mail IN A 192.0.2.999\n", 1, "malformed"),
])
def test_errors_carry_the_line_and_a_readable_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(ZoneError) as err:
        preflight_zone(text, DOMAIN)
    assert err.value.line == line and str(err.value).startswith(f"line {line}: ") and reason in str(err.value)
    assert "list index out of range" not in str(err.value) and "Invalid reverse lookup" not in str(err.value)


@pytest.mark.parametrize("text", ["", "\n  \n; only a comment\n"])
def test_empty_file_is_refused(text: str) -> None:
    with pytest.raises(ZoneError, match="empty"):
        preflight_zone(text, DOMAIN)


def test_foreign_origin_is_refused_and_a_subdomain_origin_is_not() -> None:
    with pytest.raises(ZoneError, match=r"line 1: \$ORIGIN other\.test\. is not example\.test"):
        preflight_zone('$ORIGIN other.test.\n@ IN TXT "v=spf1 -all"\n', DOMAIN)
    with pytest.raises(ZoneError, match="no record at or below example.test"):
        preflight_zone('other.test. IN TXT "v=spf1 -all"\n', DOMAIN)
    audit = preflight_zone(BASE + GOOD + f'$ORIGIN news.{DOMAIN}.\n@ IN TXT "v=spf1 -all"\n', DOMAIN)
    assert audit.target == DOMAIN and audit.records["spf"]["record"].startswith("v=spf1 ip4:")
