"""DNSSEC: DNSSEC-UNSIGNED for an unsigned zone, none for a zone whose DS, DNSKEY and RRSIG hold."""

from __future__ import annotations

import time

import dns.dnssec
import dns.name
import dns.rrset
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


def test_ds_that_matches_no_key_is_not_signed(serve) -> None:
    assert ids(check_dnssec(DOMAIN, resolver=serve(zone(signed_records(ds_matches=False)))).findings) == {
        "DNSSEC-UNSIGNED"}
