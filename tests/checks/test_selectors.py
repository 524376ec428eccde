"""Probing common DKIM selectors on the loopback DNS server."""

from __future__ import annotations

from checks.dns_auth.selectors import discover_selectors
from tests.checks.conftest import rsa_public


def test_common_selectors_that_publish_a_key_are_found(serve):
    key = rsa_public(1024)
    resolver = serve(f"""
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
google._domainkey IN TXT "v=DKIM1; k=rsa; p={key}"
selector1._domainkey IN CNAME selector1-shop._domainkey.esp.example.
selector1-shop._domainkey.esp.example. IN TXT "v=DKIM1; k=rsa; p={key}"
k1._domainkey IN TXT "v=DKIM1; p="
_domainkey IN TXT "o=~"
""", "shop.example")
    found = {f.selector: (f.bits, f.revoked) for f in discover_selectors("shop.example", resolver=resolver)}
    assert found == {"google": (1024, False), "selector1": (1024, False), "k1": (None, True)}


def test_a_slow_or_failing_server_finds_nothing_without_raising(serve):
    resolver = serve("@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n", "shop.example", timeout=0.2,
                     delays={"_domainkey.shop.example": 1.0})
    assert discover_selectors("shop.example", resolver=resolver, candidates=["google", "s1"]) == []
