"""MX: MX-MISSING (warn), null MX (info), and a present MX."""

from __future__ import annotations

from checks.dns_auth.mx import check_mx, get_ns
from tests.checks.conftest import DOMAIN, ids, zone


def test_present(serve) -> None:
    result = check_mx(DOMAIN, resolver=serve(zone()))
    assert result.findings == []
    assert result.record["hosts"] == [{"preference": 10, "hostname": f"mail.{DOMAIN}"}]


def test_missing_is_a_warning(serve) -> None:
    found = check_mx(DOMAIN, resolver=serve(zone(good=False))).findings
    assert [(f.rule_id, f.severity) for f in found] == [("MX-MISSING", "warn")]


def test_null_mx_is_information(serve) -> None:
    found = check_mx(DOMAIN, resolver=serve(zone("@ IN MX 0 .", good=False))).findings
    assert [(f.rule_id, f.severity) for f in found] == [("MX-MISSING", "info")]
    assert "RFC 7505" in found[0].detail
    assert ids(found) == {"MX-MISSING"}


def test_nameservers(serve) -> None:
    assert get_ns(DOMAIN, resolver=serve(zone())) == [f"ns.{DOMAIN}"]


def test_failed_mx_lookup_is_not_missing(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={f"{DOMAIN} MX": "servfail"})
    found = check_mx(DOMAIN, resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].subject == f"domain:{DOMAIN}"
    assert found[0].evidence == {"record": "mx", "name": DOMAIN, "rdtype": "MX", "error": "SERVFAIL"}
    server.heal()
    assert check_mx(DOMAIN, resolver=resolver_for(server, 0.3)).findings == []
