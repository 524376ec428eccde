"""DNSSEC: DNSSEC-UNSIGNED for an unsigned zone, none for a zone whose DS, DNSKEY and RRSIG hold."""

from __future__ import annotations

import time

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from checks.dns_auth.dnssec import check_dnssec
from tests.checks.conftest import DOMAIN, ids, zone


def signed_records(*, ds_matches: bool = True) -> str:
    """DNSKEY, its RRSIG (valid now) and the parent's DS for DOMAIN, as master-file lines."""
    key = ec.generate_private_key(ec.SECP256R1())
    origin = dns.name.from_text(DOMAIN + ".")
    dnskey = dns.dnssec.make_dnskey(key.public_key(), dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257)
    keys = dns.rrset.from_rdata(origin, 300, dnskey)
    now = int(time.time())
    sig = dns.dnssec.sign(keys, key, origin, dnskey, inception=now - 3600, expiration=now + 86400)
    other = dns.dnssec.make_dnskey(ec.generate_private_key(ec.SECP256R1()).public_key(),
                                   dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257)
    ds = dns.dnssec.make_ds(origin, dnskey if ds_matches else other, "SHA256")
    return "\n".join(dns.rrset.from_rdata(origin, 300, rd).to_text() for rd in (dnskey, sig, ds))


def test_unsigned(serve) -> None:
    result = check_dnssec(DOMAIN, resolver=serve(zone()))
    assert ids(result.findings) == {"DNSSEC-UNSIGNED"} and result.record == {"signed": False}


def test_signed(serve) -> None:
    result = check_dnssec(DOMAIN, resolver=serve(zone(signed_records())))
    assert result.findings == [] and result.record == {"signed": True}


def test_ds_that_matches_no_key_is_bogus(serve) -> None:
    # RFC 4035 §5.2: a DS with no matching DNSKEY leaves validating resolvers with a bogus zone
    found = check_dnssec(DOMAIN, resolver=serve(zone(signed_records(ds_matches=False)))).findings
    assert ids(found) == {"DNSSEC-BOGUS"} and "matches the parent's DS" in found[0].detail


def signed_zone(*, expired: bool) -> str:
    """The whole test zone signed by dnspython (every RRset, NSEC), and the parent's DS."""
    key = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(key.public_key(), dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257)
    z = dns.zone.from_text(zone(), origin=DOMAIN + ".", relativize=False)
    now = int(time.time())
    inception, expiration = (now - 30 * 86400, now - 86400) if expired else (now - 3600, now + 86400)
    with z.writer() as txn:
        dns.dnssec.sign_zone(z, txn, keys=[(key, dnskey)], inception=inception, expiration=expiration)
    ds = dns.dnssec.make_ds(z.origin, dnskey, "SHA256")
    return z.to_text(relativize=False) + dns.rrset.from_rdata(z.origin, 300, ds).to_text() + "\n"


def test_signed_zone_validates_and_an_expired_signature_is_bogus(serve) -> None:
    assert check_dnssec(DOMAIN, resolver=serve(signed_zone(expired=False))).findings == []
    found = check_dnssec(DOMAIN, resolver=serve(signed_zone(expired=True))).findings
    assert ids(found) == {"DNSSEC-BOGUS"} and found[0].severity == "block"
    assert "expired" in found[0].detail and found[0].subject == f"domain:{DOMAIN}"


@pytest.mark.parametrize("rdtype", ["DS", "DNSKEY"])
def test_failed_ds_or_dnskey_lookup_is_not_unsigned(dns_server, resolver_for, rdtype: str) -> None:
    server = dns_server(zone(signed_records()))
    server.fail(DOMAIN, "servfail", rdtype=rdtype)
    found = check_dnssec(DOMAIN, resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].evidence == {"record": "dnssec", "name": DOMAIN, "rdtype": rdtype, "error": "SERVFAIL"}
    server.heal()
    assert check_dnssec(DOMAIN, resolver=resolver_for(server, 0.3)).findings == []


def test_dnssec_queries_ask_for_signatures_and_for_a_bogus_chain(dns_server, resolver_for) -> None:
    server = dns_server(zone(signed_records()))
    check_dnssec(DOMAIN, resolver=resolver_for(server))
    asked = [q for q in server.resolver.queries if dns.rdatatype.to_text(q.q.qtype) in ("DS", "DNSKEY")]
    assert len(asked) == 2
    # CD (RFC 4035 §3.2.2): a validating resolver returns a bogus chain instead of SERVFAIL
    assert all(q.header.cd for q in asked)
    # DO (RFC 3225) in the OPT record: answers carry their RRSIGs
    assert all(any(rr.rtype == 41 and rr.ttl & 0x8000 for rr in q.ar) for q in asked)
