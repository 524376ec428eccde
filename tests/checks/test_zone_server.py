"""The loopback zone server's failure injection: chosen names time out, SERVFAIL or REFUSE."""

from __future__ import annotations

import dns.exception
import dns.resolver
import pytest

from tests.checks.conftest import DOMAIN, zone


def _rcode(resolver, name: str, rdtype: str = "TXT") -> str:
    """The outcome of one lookup: NOERROR, NXDOMAIN, SERVFAIL/REFUSED, or timeout."""
    try:
        resolver.resolve(name, rdtype)
        return "NOERROR"
    except dns.resolver.NXDOMAIN:
        return "NXDOMAIN"
    except dns.resolver.NoNameservers as exc:
        return str(exc.kwargs["errors"][0][3])  # dnspython keeps the bad rcode as its text
    except dns.exception.Timeout:
        return "timeout"


def test_servfail_refused_and_timeout_on_chosen_names(dns_server, resolver_for):
    server = dns_server(zone(), failures={f"_dmarc.{DOMAIN}": "servfail"})
    r = resolver_for(server, 0.3)
    r.cache = None
    assert _rcode(r, f"_dmarc.{DOMAIN}") == "SERVFAIL"
    assert _rcode(r, DOMAIN) == "NOERROR"  # only the chosen name and those below it fail
    server.fail(f"mail.{DOMAIN}", "refused")
    assert _rcode(r, f"mail.{DOMAIN}", "A") == "REFUSED"
    server.fail(DOMAIN, "timeout", rdtype="txt")
    assert _rcode(r, DOMAIN) == "timeout"
    assert _rcode(r, DOMAIN, "MX") == "NOERROR"  # a type-scoped failure leaves other types alone
    assert _rcode(r, f"_dmarc.{DOMAIN}") == "SERVFAIL"  # the more specific name wins


def test_failures_heal_while_running_and_survive_set_zone(dns_server, resolver_for):
    server = dns_server(zone())
    r = resolver_for(server, 0.3)
    r.cache = None
    server.fail(DOMAIN, "servfail")
    server.set_zone(zone("extra IN TXT \"x\""))
    assert _rcode(r, f"extra.{DOMAIN}") == "SERVFAIL"
    server.heal(DOMAIN)
    assert _rcode(r, f"extra.{DOMAIN}") == "NOERROR"
    server.resolver.drop.add(DOMAIN)  # the older drop set still works, and heal() clears it
    assert _rcode(r, DOMAIN) == "timeout"
    server.heal()
    assert _rcode(r, DOMAIN) == "NOERROR"


def test_unknown_failure_mode_is_refused(dns_server):
    server = dns_server(zone())
    with pytest.raises(ValueError, match="timeout, servfail, refused"):
        server.fail(DOMAIN, "flaky")
