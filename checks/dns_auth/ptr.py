"""PTR and forward-confirmed reverse DNS of sending IPs (Gmail/Yahoo rules; RFC 8601 §3)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import dns.exception
import dns.resolver
import dns.reversename

from checks.catalogue import finding
from checks.dns_auth import CheckResult, LookupFailed, lookup_failed, resolve
from checks.findings import Finding
from checks.i18n import msg


def get_ptr_names(ip: str, *, resolver: dns.resolver.Resolver) -> list[str]:
    """The PTR names of ``ip`` (empty when none); raises LookupFailed."""
    answer = resolve(dns.reversename.from_address(ip).to_text(omit_final_dot=True), "PTR", resolver=resolver)
    return [r.target.to_text(omit_final_dot=True) for r in answer or ()]


def get_addresses(name: str, version: int, *, resolver: dns.resolver.Resolver) -> list[str]:
    """A (version 4) or AAAA (version 6) addresses of ``name``; raises LookupFailed."""
    return [r.address for r in resolve(name, "A" if version == 4 else "AAAA", resolver=resolver) or ()]


def check_ip_ptr(ip: str, *, resolver: dns.resolver.Resolver) -> tuple[dict, list[Finding]]:
    """One IP: its PTR names and whether one of them resolves back to it."""
    addr = ipaddress.ip_address(ip)
    subject = f"ip:{ip}"
    try:
        names = get_ptr_names(ip, resolver=resolver)
    except LookupFailed as exc:
        return {"ptr": [], "error": exc.error}, [lookup_failed("ptr", exc, subject)]
    if not names:
        return {"ptr": [], "confirmed": None}, [finding("PTR-MISSING", msg("no PTR at {name}",
                                                                           name=dns.reversename.from_address(ip)
                                                                           .to_text(omit_final_dot=True)),
                                                        subject=subject)]
    forward: dict[str, list[str]] = {}
    failed: list[LookupFailed] = []
    for name in names:
        try:
            forward[name] = get_addresses(name, addr.version, resolver=resolver)
        except LookupFailed as exc:
            forward[name] = []
            failed.append(exc)
    confirmed = [n for n, addrs in forward.items() if any(ipaddress.ip_address(a) == addr for a in addrs)]
    info = {"ptr": names, "forward": forward, "confirmed": confirmed[0] if confirmed else None}
    if confirmed:
        return info, []
    if failed:  # the forward lookup that could confirm the PTR failed: unknown, not unconfirmed
        return info, [lookup_failed("ptr", exc, subject) for exc in failed]
    shown = ", ".join(f"{n} -> {', '.join(a) or 'nothing'}" for n, a in forward.items())
    return info, [finding("PTR-NOT-CONFIRMED", msg("{ip} has PTR {shown}: none resolves back to {ip}", ip=ip,
                                                   shown=shown), subject=subject)]


def check_ptr(ips: Iterable[str], *, resolver: dns.resolver.Resolver) -> CheckResult:
    """PTR and FCrDNS of each sending IP."""
    records: dict[str, dict] = {}
    found: list[Finding] = []
    for ip in ips:
        records[ip], more = check_ip_ptr(ip, resolver=resolver)
        found += more
    return CheckResult(records, found)
