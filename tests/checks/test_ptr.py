"""PTR and forward-confirmed reverse DNS: PTR-MISSING and PTR-NOT-CONFIRMED, IPv4 and IPv6."""

from __future__ import annotations

from checks.dns_auth.ptr import check_ptr
from tests.checks.conftest import DOMAIN, SENDER_IP, SENDER_IP6, ids, zone

V6_PTR = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."


def test_confirmed_ipv4_and_ipv6(serve) -> None:
    r = serve(zone(f"{V6_PTR} IN PTR mail.{DOMAIN}."))
    result = check_ptr([SENDER_IP, SENDER_IP6], resolver=r)
    assert result.findings == []
    assert result.record[SENDER_IP]["confirmed"] == f"mail.{DOMAIN}"
    assert result.record[SENDER_IP6]["confirmed"] == f"mail.{DOMAIN}"


def test_missing_ptr(serve) -> None:
    result = check_ptr(["198.51.100.7", SENDER_IP6], resolver=serve(zone()))
    assert [(f.rule_id, f.subject) for f in result.findings] == [
        ("PTR-MISSING", "ip:198.51.100.7"), ("PTR-MISSING", f"ip:{SENDER_IP6}")]


def test_ptr_name_pointing_elsewhere_is_not_confirmed(serve) -> None:
    r = serve(zone("7.100.51.198.in-addr.arpa. IN PTR mail.example.test.", good=True))
    result = check_ptr(["198.51.100.7"], resolver=r)
    assert ids(result.findings) == {"PTR-NOT-CONFIRMED"}
    assert "192.0.2.10" in result.findings[0].detail


def test_ptr_name_that_does_not_resolve_is_not_confirmed(serve) -> None:
    r = serve(zone("7.100.51.198.in-addr.arpa. IN PTR ghost.example.test."))
    assert ids(check_ptr(["198.51.100.7"], resolver=r).findings) == {"PTR-NOT-CONFIRMED"}


def test_failed_ptr_lookup_is_not_missing(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={"2.0.192.in-addr.arpa": "servfail"})
    found = check_ptr([SENDER_IP], resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].subject == f"ip:{SENDER_IP}"
    assert found[0].evidence == {"record": "ptr", "name": "10.2.0.192.in-addr.arpa", "rdtype": "PTR",
                                 "error": "SERVFAIL"}


def test_failed_forward_lookup_is_not_unconfirmed(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={f"mail.{DOMAIN} A": "timeout"})
    found = check_ptr([SENDER_IP], resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].evidence == {"record": "ptr", "name": f"mail.{DOMAIN}", "rdtype": "A", "error": "timeout"}
    server.heal()
    assert check_ptr([SENDER_IP], resolver=resolver_for(server, 0.3)).findings == []
