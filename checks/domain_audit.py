"""The posture of a sending domain or IP: every DNS authentication check and the blocklists."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import dns.exception
import dns.resolver
import dns.reversename

from checks.blocklists import (
    Blocklist,
    SelfTests,
    check_domain_rows,
    check_ip,
    parse_blocklists,
    query_lists,
    row_finding,
)
from checks.dns_auth import CheckResult, LookupFailed, dns_error, lookup_failed
from checks.dns_auth.bimi import check_bimi
from checks.dns_auth.dkim import check_dkim
from checks.dns_auth.dmarc import check_dmarc
from checks.dns_auth.dnssec import check_dnssec
from checks.dns_auth.mta_sts import PolicyFetcher, check_mta_sts
from checks.dns_auth.mx import check_mx, get_ns
from checks.dns_auth.ptr import check_ptr
from checks.dns_auth.spf import check_spf
from checks.dns_auth.tlsrpt import check_tlsrpt
from checks.findings import SEVERITY_ORDER, Finding


@dataclass(frozen=True)
class DomainAudit:
    """One audit of a domain or an IP: findings, the records seen, blocklist answers."""

    target: str
    kind: Literal["domain", "ip"]
    findings: list[Finding]
    records: dict[str, Any] = field(default_factory=dict)
    blocklists: list[dict[str, Any]] = field(default_factory=list)
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def blocked(self) -> bool:
        """True when any finding has severity ``block``."""
        return any(f.severity == "block" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (``from_dict`` reads it back)."""
        return {"target": self.target, "kind": self.kind, "findings": [f.to_dict() for f in self.findings],
                "records": self.records, "blocklists": self.blocklists, "checked_at": self.checked_at.isoformat()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DomainAudit:
        """Rebuild from ``to_dict()`` output."""
        when = d.get("checked_at")
        if isinstance(when, str):
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        return cls(target=d["target"], kind=d.get("kind", "domain"),
                   findings=[_finding(f) for f in d.get("findings") or []], records=dict(d.get("records") or {}),
                   blocklists=list(d.get("blocklists") or []), checked_at=when or datetime.now(UTC))


def _finding(d: dict[str, Any]) -> Finding:
    """A Finding from its dict, ignoring keys a later version may add."""
    return Finding(**{k: v for k, v in d.items() if k in Finding.__dataclass_fields__})


# The record name each check reports in DNS-LOOKUP-FAILED evidence (RULES.md §7), and the
# name and type its first lookup asks for, for a failure that escapes a check unclassified.
_RECORD = {"spf": ("spf", "{d}", "TXT"), "dmarc": ("dmarc", "_dmarc.{d}", "TXT"), "mx": ("mx", "{d}", "MX"),
           "mta_sts": ("mta-sts", "_mta-sts.{d}", "TXT"), "tlsrpt": ("tlsrpt", "_smtp._tls.{d}", "TXT"),
           "bimi": ("bimi", "default._bimi.{d}", "TXT"), "dnssec": ("dnssec", "{d}", "DNSKEY")}


def _guarded(name: str, fn: Callable[[], Any], domain: str, selectors: tuple[str, ...],
             ips: tuple[str, ...]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return fn()
        except LookupFailed as exc:
            record, _, _ = _RECORD.get(name, (name, "", ""))
            subject = f"domain:{domain}" if name in _RECORD else exc.name
            return CheckResult(None, [lookup_failed(record, exc, subject)])
        except dns.exception.DNSException as exc:
            # a failed lookup is not an absent record: never a *-MISSING for it (RULES.md §7)
            error = dns_error(exc) or type(exc).__name__
            if name == "dkim":
                return CheckResult({s: None for s in selectors}, [
                    lookup_failed("dkim", LookupFailed(f"{s}._domainkey.{domain}", "TXT", error),
                                  f"dkim:{s}._domainkey.{domain}") for s in selectors])
            if name == "ptr":
                return CheckResult({ip: None for ip in ips}, [
                    lookup_failed("ptr", LookupFailed(dns.reversename.from_address(ip).to_text(True), "PTR", error),
                                  f"ip:{ip}") for ip in ips])
            if name in _RECORD:
                record, qname, rdtype = _RECORD[name]
                return CheckResult(None, [lookup_failed(record, LookupFailed(qname.format(d=domain), rdtype, error),
                                                        f"domain:{domain}")])
            if name == "ns":
                return CheckResult([])
            raise

    return run


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-SEVERITY_ORDER[f.severity], f.rule_id, f.subject))


def _lists(blocklists: Iterable[Blocklist] | None) -> list[Blocklist]:
    return parse_blocklists(None) if blocklists is None else list(blocklists)


def audit_domain(domain: str, *, selectors: Iterable[str] = (), ips: Iterable[str] = (),
                 resolver: dns.resolver.Resolver, blocklists: Iterable[Blocklist] | None = None,
                 fetch_policy: PolicyFetcher | None = None) -> DomainAudit:
    """Every RULES.md §1-2 check of a sending domain, its DKIM selectors and sending IPs."""
    domain = domain.lower().rstrip(".")
    selectors, ips, lists = tuple(selectors), tuple(str(ipaddress.ip_address(i)) for i in ips), _lists(blocklists)
    self_tests = SelfTests()
    checks: dict[str, Callable[[], Any]] = {
        "spf": lambda: check_spf(domain, resolver=resolver, ips=ips),
        "dmarc": lambda: check_dmarc(domain, resolver=resolver),
        "mx": lambda: check_mx(domain, resolver=resolver),
        "ns": lambda: CheckResult(get_ns(domain, resolver=resolver)),
        "dkim": lambda: check_dkim(domain, selectors, resolver=resolver),
        "ptr": lambda: check_ptr(ips, resolver=resolver),
        "mta_sts": lambda: check_mta_sts(domain, resolver=resolver, fetch_policy=fetch_policy),
        "tlsrpt": lambda: check_tlsrpt(domain, resolver=resolver),
        "bimi": lambda: check_bimi(domain, resolver=resolver),
        "dnssec": lambda: check_dnssec(domain, resolver=resolver),
        # every (list, IP) pair in flight together, not one IP after another
        "bl_ip": lambda: query_lists(((bl, ip) for ip in ips for bl in lists if bl.kind == "ip"),
                                     resolver=resolver, self_tests=self_tests),
        "bl_domain": lambda: check_domain_rows([domain], lists=lists, resolver=resolver,
                                               rule_id="BL-DOMAIN-LISTED", self_tests=self_tests),
    }
    # the protocols are independent: run them side by side, each waits on its own answers
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        futures = {name: pool.submit(_guarded(name, fn, domain, selectors, ips)) for name, fn in checks.items()}
        results = {name: f.result() for name, f in futures.items()}
    findings: list[Finding] = []
    records: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in ("spf", "dmarc", "mx", "ns", "dkim", "ptr", "mta_sts", "tlsrpt", "bimi", "dnssec"):
        records[name] = results[name].record
        findings += results[name].findings
        errors = [f"{f.evidence['name']} {f.evidence['rdtype']}: {f.evidence['error']}"
                  for f in results[name].findings if f.rule_id == "DNS-LOOKUP-FAILED"]
        if errors:
            failed[name] = errors[0]
    if failed:
        # a lookup that failed is not a record that vanished: history diffs can tell them apart
        records["dns_errors"] = failed
    rows: list[dict[str, Any]] = []
    rows += results["bl_ip"]
    findings += [f for f in map(row_finding, results["bl_ip"]) if f]
    rows += results["bl_domain"][0]
    findings += results["bl_domain"][1]
    return DomainAudit(domain, "domain", _sorted(findings), records, rows)


def audit_ip(ip: str, *, resolver: dns.resolver.Resolver, blocklists: Iterable[Blocklist] | None = None) -> DomainAudit:
    """PTR, forward-confirmed reverse DNS and the IP blocklists of one sending IP."""
    ip = str(ipaddress.ip_address(ip))
    lists = _lists(blocklists)
    with ThreadPoolExecutor(max_workers=2) as pool:
        ptr = pool.submit(check_ptr, [ip], resolver=resolver)
        bl = pool.submit(check_ip, ip, lists=lists, resolver=resolver)
        ptr_result, (rows, bl_findings) = ptr.result(), bl.result()
    return DomainAudit(ip, "ip", _sorted(ptr_result.findings + bl_findings), {"ptr": ptr_result.record}, rows)
