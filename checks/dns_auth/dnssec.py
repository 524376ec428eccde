"""DNSSEC (RFC 4033): is the chain from the parent intact? Through checkdmarc's check_dnssec."""

from __future__ import annotations

import checkdmarc.dnssec as cd
import dns.resolver
from expiringdict import ExpiringDict

from checks.catalogue import finding
from checks.dns_auth import CheckResult


def check_dnssec(domain: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """Signed (DS at the parent matches a DNSKEY that signs the zone) or DNSSEC-UNSIGNED."""
    # a cache for this call only: checkdmarc's default one is process-wide (see dns_auth/__init__)
    signed = cd.check_dnssec(domain, nameservers=list(resolver.nameservers),
                             timeout=float(resolver.lifetime or resolver.timeout),
                             cache=ExpiringDict(max_len=64, max_age_seconds=60))
    if signed:
        return CheckResult({"signed": True}, [])
    return CheckResult({"signed": False}, [finding("DNSSEC-UNSIGNED", f"no validated DS -> DNSKEY -> RRSIG chain "
                                                   f"for {domain}", subject=f"domain:{domain}")])
