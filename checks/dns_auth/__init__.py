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

from checks.catalogue import finding
from checks.findings import Finding
from checks.i18n import msg


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


def dns_error(exc: BaseException) -> str | None:
    """Why a lookup failed (``timeout``, ``SERVFAIL``, ``REFUSED``, ``no nameserver``), or None
    when ``exc`` (and what it wraps) is no failure: NXDOMAIN and NODATA are answers."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, dns.exception.Timeout):
            return "timeout"
        if isinstance(seen, dns.resolver.NoNameservers):
            # dnspython keeps each server's complaint: an rcode's text, or the exception raised
            for *_, err, _response in seen.kwargs.get("errors") or []:
                if isinstance(err, str):
                    return err
                if isinstance(err, dns.exception.Timeout):
                    return "timeout"
            return "no nameserver"
        if isinstance(seen, OSError):
            return "no nameserver"
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    for rcode in ("SERVFAIL", "REFUSED"):
        if rcode in text:
            return rcode
    if "timed out" in text or "lifetime expired" in text:
        return "timeout"
    if "No nameservers" in text or "All nameservers failed" in text:
        return "no nameserver"
    return None


class LookupFailed(Exception):
    """A lookup timed out or failed: the record's state is unknown (not absent)."""

    def __init__(self, name: str, rdtype: str, error: str) -> None:
        super().__init__(f"{name} {rdtype}: {error}")
        self.name, self.rdtype, self.error = name.rstrip("."), rdtype, error


def lookup_failed(record: str, failure: LookupFailed, subject: str) -> Finding:
    """DNS-LOOKUP-FAILED for one lookup of ``record`` (spf, dmarc, dkim, ...); monitoring reads
    ``evidence`` as "not observed this run" (RULES.md §7)."""
    return finding("DNS-LOOKUP-FAILED",
                   msg("{rdtype} lookup of {name} failed ({error}): the {record} record's state is unknown",
                       rdtype=failure.rdtype, name=failure.name, error=failure.error, record=record),
                   subject=subject, evidence={"record": record, "name": failure.name,
                                              "rdtype": failure.rdtype, "error": failure.error})


def checkdmarc_failure(exc: Exception, *, record: str, name: str, subject: str, not_found: type[Exception],
                       missing: str, invalid: str, unusable: Any = None) -> CheckResult:
    """What a checkdmarc query error says of the record at ``name``: a failed lookup
    (DNS-LOOKUP-FAILED: its state is unknown), no record (``missing``), or an unusable one
    (``invalid``, with ``unusable`` as the detail, by default "{name} is unusable: {error}")."""
    error = dns_error(exc)
    if error:
        return CheckResult(None, [lookup_failed(record, LookupFailed(name, "TXT", error), subject)])
    if isinstance(exc, not_found):
        return CheckResult(None, [finding(missing, msg("no record at {name}", name=name), subject=subject)])
    detail = unusable if unusable is not None else msg("{name} is unusable: {error}", name=name, error=str(exc))
    return CheckResult(None, [finding(invalid, detail, subject=subject)])


def resolve(name: str, rdtype: str, *, resolver: dns.resolver.Resolver) -> dns.resolver.Answer | None:
    """The answer, None for NXDOMAIN, NODATA or an unaskable name; raises LookupFailed when no
    answer came."""
    try:
        return resolver.resolve(name, rdtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except dns.exception.DNSException as exc:
        error = dns_error(exc)
        if error is None:  # a name that cannot be asked (label too long, empty label): no record there
            return None
        raise LookupFailed(name, rdtype, error) from exc


def txt_records(name: str, *, resolver: dns.resolver.Resolver) -> list[str] | None:
    """TXT strings at ``name`` (chunks joined); None when absent; raises LookupFailed."""
    answer = resolve(name, "TXT", resolver=resolver)
    if answer is None:
        return None
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
