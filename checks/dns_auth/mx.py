"""MX (RFC 5321 §5; null MX RFC 7505) and NS of the domain, through checkdmarc."""

from __future__ import annotations

import checkdmarc.utils as cu
import dns.exception
import dns.resolver

from checks.catalogue import finding
from checks.dns_auth import CheckResult, LookupFailed, cd_args, lookup_failed, resolve
from checks.i18n import msg


def check_mx(domain: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """The MX hosts; none is a warning (bounces and replies lost), a null MX only informs."""
    subject = f"domain:{domain}"
    try:
        answer = resolve(domain, "MX", resolver=resolver)
    except LookupFailed as exc:
        return CheckResult(None, [lookup_failed("mx", exc, subject)])
    if answer is None:
        return CheckResult({"hosts": []}, [finding("MX-MISSING", msg("{domain} has no MX: replies and bounces are "
                                                                     "lost", domain=domain), subject=subject)])
    hosts = sorted(({"preference": r.preference, "hostname": r.exchange.to_text(omit_final_dot=True)}
                    for r in answer), key=lambda h: (h["preference"], h["hostname"]))
    if len(hosts) == 1 and hosts[0]["hostname"] in ("", "."):
        return CheckResult({"hosts": [], "null_mx": True},
                           [finding("MX-MISSING", msg("null MX (RFC 7505): the domain accepts no mail, so replies "
                                                      "and bounces to it are refused"), subject=subject,
                                    severity="info")])
    try:  # checkdmarc's advice on the hosts (addresses, names); its failures change no verdict
        warnings = list(cu.get_mx_record_set(domain, **cd_args(resolver)).get("warnings") or [])
    except (cu.DNSException, dns.exception.DNSException):
        warnings = []
    return CheckResult({"hosts": hosts, "warnings": warnings}, [])


def get_ns(domain: str, *, resolver: dns.resolver.Resolver) -> list[str]:
    """The domain's (or its parent zone's) nameserver names; empty when the lookup fails."""
    try:
        return list(cu.get_nameservers(domain, **cd_args(resolver)).get("hostnames") or [])
    except (cu.DNSException, dns.exception.DNSException):
        return []
