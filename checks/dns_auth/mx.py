"""MX (RFC 5321 §5; null MX RFC 7505) and NS of the domain, through checkdmarc."""

from __future__ import annotations

import checkdmarc.utils as cu
import dns.exception
import dns.resolver

from checks.catalogue import finding
from checks.dns_auth import CheckResult, cd_args, lookup_failure


def check_mx(domain: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """The MX hosts; none is a warning (bounces and replies lost), a null MX only informs."""
    subject = f"domain:{domain}"
    try:
        mx = cu.get_mx_record_set(domain, **cd_args(resolver))
    except (cu.DNSException, dns.exception.DNSException) as exc:
        return CheckResult(None, [finding("MX-MISSING", f"MX lookup failed: {exc}", subject=subject,
                                          evidence=lookup_failure(exc))])
    hosts = [{"preference": h["preference"], "hostname": h["hostname"]} for h in mx.get("hosts") or []]
    if mx.get("null_mx"):
        return CheckResult({"hosts": [], "null_mx": True},
                           [finding("MX-MISSING", "null MX (RFC 7505): the domain accepts no mail, so replies "
                                    "and bounces to it are refused", subject=subject, severity="info")])
    if not hosts:
        return CheckResult({"hosts": []}, [finding("MX-MISSING", f"{domain} has no MX: replies and bounces are "
                                                   "lost", subject=subject)])
    return CheckResult({"hosts": hosts, "warnings": list(mx.get("warnings") or [])}, [])


def get_ns(domain: str, *, resolver: dns.resolver.Resolver) -> list[str]:
    """The domain's (or its parent zone's) nameserver names; empty when the lookup fails."""
    try:
        return list(cu.get_nameservers(domain, **cd_args(resolver)).get("hostnames") or [])
    except (cu.DNSException, dns.exception.DNSException):
        return []
