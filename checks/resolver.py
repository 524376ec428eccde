"""The one DNS resolver every check uses, built from configuration, cached within one audit."""

from __future__ import annotations

import dns.nameserver
import dns.resolver


def make_resolver(nameservers: list[tuple[str, int]] | None = None, timeout: float = 2.0,
                  *, cache: bool = True) -> dns.resolver.Resolver:
    """A dnspython resolver on ``nameservers`` ((ip, port) pairs; the system's when empty)."""
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in nameservers]
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = timeout
    resolver.lifetime = timeout * 2
    resolver.retry_servfail = False
    if cache:
        resolver.cache = dns.resolver.Cache()
    return resolver
