"""DNS authentication of a sending domain: one module per protocol (get_/parse_/check_).

Every check takes the audit's resolver; checkdmarc is called with that resolver so all DNS
goes through the configured nameservers and the audit's cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import checkdmarc.utils
import dns.exception
import dns.resolver
from expiringdict import ExpiringDict

from checks.findings import Finding


class _NoCache(ExpiringDict):
    """Stands in for checkdmarc's process-wide DNS cache: never hits, never stores."""

    def get(self, key: Any, default: Any = None, with_age: bool = False) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any, set_time: Any = None) -> None:
        return None


# checkdmarc keeps one process-wide cache keyed by name only, not by nameserver: answers from
# one server (a preflight zone, a test zone) would leak into audits against another. Caching
# belongs to the audit's own resolver (checks/resolver.py), so theirs is switched off.
checkdmarc.utils.DNS_CACHE = _NoCache(max_len=1, max_age_seconds=1)


@dataclass(frozen=True)
class CheckResult:
    """What one protocol check found: the record as seen and its findings."""

    record: Any = None
    findings: list[Finding] = field(default_factory=list)


def cd_args(resolver: dns.resolver.Resolver) -> dict[str, Any]:
    """Keyword arguments that make checkdmarc query through ``resolver``."""
    return {"resolver": resolver, "timeout": float(resolver.lifetime or resolver.timeout), "retries": 0}


_FAILURES = (dns.exception.Timeout, dns.resolver.NoNameservers)


def lookup_failure(exc: BaseException) -> dict[str, str]:
    """``{"dns_error": why}`` when ``exc`` (or what it wraps) is a failed lookup, not an absent record."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _FAILURES):
            return {"dns_error": str(seen)}
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    if "timed out" in text or "lifetime expired" in text or "No nameservers" in text:
        return {"dns_error": text}
    return {}


def txt_records(name: str, *, resolver: dns.resolver.Resolver) -> list[str] | None:
    """TXT strings at ``name`` (chunks joined); None when the name or type does not exist."""
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
