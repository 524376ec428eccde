"""PTR and forward-confirmed reverse DNS of sending IPs (Gmail/Yahoo rules; RFC 8601 §3)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import dns.exception
import dns.resolver
import dns.reversename

from checks.catalogue import finding
from checks.dns_auth import CheckResult
from checks.findings import Finding


def get_ptr_names(ip: str, *, resolver: dns.resolver.Resolver) -> list[str]:
    """The PTR names of ``ip`` (empty when none)."""
    try:
        answer = resolver.resolve(dns.reversename.from_address(ip), "PTR")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return [r.target.to_text(omit_final_dot=True) for r in answer]


def get_addresses(name: str, version: int, *, resolver: dns.resolver.Resolver) -> list[str]:
    """A (version 4) or AAAA (version 6) addresses of ``name``."""
    try:
        answer = resolver.resolve(name, "A" if version == 4 else "AAAA")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return [r.address for r in answer]


def check_ip_ptr(ip: str, *, resolver: dns.resolver.Resolver) -> tuple[dict, list[Finding]]:
    """One IP: its PTR names and whether one of them resolves back to it."""
    addr = ipaddress.ip_address(ip)
    subject = f"ip:{ip}"
    try:
        names = get_ptr_names(ip, resolver=resolver)
    except dns.exception.DNSException as exc:
        return {"ptr": [], "error": str(exc)}, [finding("PTR-MISSING", f"PTR lookup failed: {exc}", subject=subject,
                                                                      evidence={"dns_error": str(exc)})]
    if not names:
        return {"ptr": [], "confirmed": None}, [finding("PTR-MISSING", f"no PTR at {dns.reversename.from_address(ip)}",
                                                        subject=subject)]
    forward: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    for name in names:
        try:
            forward[name] = get_addresses(name, addr.version, resolver=resolver)
        except dns.exception.DNSException as exc:
            forward[name], failed[name] = [], f"lookup failed: {type(exc).__name__}"
    confirmed = [n for n, addrs in forward.items() if any(ipaddress.ip_address(a) == addr for a in addrs)]
    info = {"ptr": names, "forward": forward, "confirmed": confirmed[0] if confirmed else None}
    if confirmed:
        return info, []
    shown = ", ".join(f"{n} -> {', '.join(a) or failed.get(n, 'nothing')}" for n, a in forward.items())
    return info, [finding("PTR-NOT-CONFIRMED", f"{ip} has PTR {shown}: none resolves back to {ip}", subject=subject,
                          evidence={"dns_error": "; ".join(failed.values())} if failed else None)]


def check_ptr(ips: Iterable[str], *, resolver: dns.resolver.Resolver) -> CheckResult:
    """PTR and FCrDNS of each sending IP."""
    records: dict[str, dict] = {}
    found: list[Finding] = []
    for ip in ips:
        records[ip], more = check_ip_ptr(ip, resolver=resolver)
        found += more
    return CheckResult(records, found)
