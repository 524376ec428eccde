"""SPF (RFC 7208): the record, its lookup counts (checkdmarc), and check_host() per IP (pyspf)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import checkdmarc.spf as cd
import dns.exception
import dns.resolver
import spf as pyspf

from checks.catalogue import finding
from checks.dns_auth import CheckResult, cd_args, lookup_failure
from checks.findings import Finding

MAX_LOOKUPS = 10  # RFC 7208 §4.6.4
MAX_VOID_LOOKUPS = 2  # RFC 7208 §4.6.4
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


def parse_spf_terms(record: str) -> dict[str, Any]:
    """The top-level terms of an SPF record: ``all`` qualifier, ``redirect``, ``ptr`` use."""
    terms = record.split()[1:] if record.lower().startswith("v=spf1") else record.split()
    out: dict[str, Any] = {"all": None, "redirect": None, "ptr": False, "terms": terms}
    for term in terms:
        low = term.lower()
        if low.startswith("redirect="):
            out["redirect"] = term.split("=", 1)[1]
            continue
        qualifier = QUALIFIERS.get(low[:1])
        mech = low[1:] if qualifier else low
        name = mech.split(":", 1)[0].split("/", 1)[0]
        if name == "all":
            out["all"] = qualifier or "pass"
        elif name == "ptr":
            out["ptr"] = True
    return out


def policy_findings(record: str, domain: str) -> list[Finding]:
    """Findings from the record text alone: +all, ?all or no all, ptr."""
    terms = parse_spf_terms(record)
    subject = f"domain:{domain}"
    found: list[Finding] = []
    if terms["all"] == "pass":
        found.append(finding("SPF-PASS-ALL", f"'{record}' lets any host send as {domain}", subject=subject))
    elif terms["all"] == "neutral":
        found.append(finding("SPF-NEUTRAL-ALL", f"'{record}' ends ?all: unlisted hosts are neither "
                             "allowed nor refused", subject=subject))
    elif terms["all"] is None and terms["redirect"] is None:
        found.append(finding("SPF-NEUTRAL-ALL", f"'{record}' has no 'all' and no 'redirect': the default "
                             "result is neutral", subject=subject))
    if terms["ptr"]:
        found.append(finding("SPF-PTR", "the ptr mechanism is slow and unreliable; use ip4/ip6/a/include",
                             subject=subject))
    return found


def count_findings(lookups: int | None, voids: int | None, domain: str) -> list[Finding]:
    """Findings from the DNS lookup counts (RFC 7208 §4.6.4 limits)."""
    subject = f"domain:{domain}"
    found = []
    if lookups is not None and lookups > MAX_LOOKUPS:
        found.append(finding("SPF-TOO-MANY-LOOKUPS", f"{lookups} DNS-querying terms after includes and "
                             f"redirects (limit {MAX_LOOKUPS}): receivers return permerror",
                             subject=subject, evidence={"dns_lookups": lookups}))
    if voids is not None and voids > MAX_VOID_LOOKUPS:
        found.append(finding("SPF-VOID-LOOKUPS", f"{voids} lookups return no answer (limit {MAX_VOID_LOOKUPS})",
                             subject=subject, evidence={"void_dns_lookups": voids}))
    return found


def get_spf(domain: str, *, resolver: dns.resolver.Resolver) -> str:
    """The domain's one SPF record; raises checkdmarc's SPFRecordNotFound/MultipleSPFRTXTRecords."""
    return cd.query_spf_record(domain, **cd_args(resolver))["record"]


def check_spf(domain: str, *, resolver: dns.resolver.Resolver, ips: Iterable[str] = ()) -> CheckResult:
    """The SPF record, its counts and policy, and check_host() of each sending IP."""
    subject = f"domain:{domain}"
    try:
        record = get_spf(domain, resolver=resolver)
    except cd.MultipleSPFRTXTRecords as exc:
        return CheckResult(None, [finding("SPF-MULTIPLE", f"{exc}: receivers return permerror", subject=subject)])
    except cd.SPFError as exc:
        return CheckResult(None, [finding("SPF-MISSING", f"no v=spf1 TXT record at {domain} ({exc})",
                                          subject=subject, evidence=lookup_failure(exc))])
    info: dict[str, Any] = {"record": record}
    found: list[Finding] = []
    try:
        parsed = cd.parse_spf_record(record, domain, ignore_too_many_lookups=True, **cd_args(resolver))
        info.update(dns_lookups=parsed["dns_lookups"], void_dns_lookups=parsed["void_dns_lookups"],
                    warnings=list(parsed.get("warnings") or []))
        found += count_findings(parsed["dns_lookups"], parsed["void_dns_lookups"], domain)
    except cd.SPFTooManyDNSLookups as exc:
        found.append(finding("SPF-TOO-MANY-LOOKUPS", str(exc), subject=subject,
                             evidence={"dns_lookups": getattr(exc, "dns_lookups", None)}))
    except cd.SPFTooManyVoidDNSLookups as exc:
        found.append(finding("SPF-VOID-LOOKUPS", str(exc), subject=subject))
    except cd.SPFError as exc:
        found.append(finding("SPF-SYNTAX", f"permerror: {exc}", subject=subject))
    found += policy_findings(record, domain)
    results = {}
    for ip in ips:
        result, explanation = check_host(ip, domain, resolver=resolver)
        results[ip] = result
        if result != "pass":
            found.append(finding("SPF-IP-NOT-AUTHORISED", f"check_host({ip}, {domain}) = {result}"
                                 + (f": {explanation}" if explanation else ""),
                                 subject=f"ip:{ip}", evidence={"result": result, "domain": domain}))
    if results:
        info["check_host"] = results
    return CheckResult(info, found)


# pyspf resolves through its module-level ``DNSLookup``; the audit's resolver is handed to it
# per thread so concurrent audits against different nameservers do not mix.
_local = threading.local()
_original_lookup = pyspf.DNSLookup


def _lookup(name: str, qtype: str, strict: bool = True, timeout: float = 30) -> list[tuple[Any, Any]]:
    resolver = getattr(_local, "resolver", None)
    if resolver is None:
        return _original_lookup(name, qtype, strict, timeout)
    out: list[tuple[Any, Any]] = []
    try:
        answer = resolver.resolve(name, qtype)
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return out
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise pyspf.TempError(f"DNS {exc}") from None
    for rdata in answer:
        if qtype in ("A", "AAAA"):
            out.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            out.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            out.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            out.append(((name, qtype), rdata.strings))
        elif qtype == "CNAME":
            out.append(((name, qtype), rdata.target.to_text(True)))
    return out


pyspf.DNSLookup = _lookup


@contextmanager
def _through(resolver: dns.resolver.Resolver) -> Iterator[None]:
    previous = getattr(_local, "resolver", None)
    _local.resolver = resolver
    try:
        yield
    finally:
        _local.resolver = previous


def check_host(ip: str, domain: str, *, resolver: dns.resolver.Resolver) -> tuple[str, str]:
    """RFC 7208 check_host(ip, domain, postmaster@domain) by pyspf: (result, explanation)."""
    with _through(resolver):
        result, explanation = pyspf.check2(i=ip, s=f"postmaster@{domain}", h=domain,
                                           querytime=float(resolver.lifetime or 4))
    return result, explanation or ""
