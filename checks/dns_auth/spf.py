"""SPF (RFC 7208): the record, its lookup counts (checkdmarc), and check_host() per IP (pyspf)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import checkdmarc.spf as cd
import dns.exception
import dns.resolver
import spf as pyspf

from checks.catalogue import finding
from checks.dns_auth import (
    CheckResult,
    LookupFailed,
    cd_args,
    dns_error,
    lookup_failed,
    resolve,
    txt_records,
)
from checks.findings import Finding
from checks.i18n import msg

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


@dataclass
class SpfWalk:
    """What following include:/redirect= (and resolving a/mx/exists) found."""

    all: str | None = None  # the effective ``all`` qualifier of the domain's policy
    via: list[str] = field(default_factory=list)  # the include:/redirect= hops that led to it
    failures: list[LookupFailed] = field(default_factory=list)


def _spf_of(name: str, resolver: dns.resolver.Resolver) -> str | None:
    records = txt_records(name, resolver=resolver) or []
    spf = [r for r in records if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")]
    return spf[0] if len(spf) == 1 else None  # none or several: a permerror checkdmarc reports


def _walk(record: str, resolver: dns.resolver.Resolver, walk: SpfWalk, seen: set[str],
          via: list[str]) -> tuple[str | None, list[str]]:
    """The effective ``all`` of ``record`` and the hops to it (RFC 7208 §5.2 include, §6.1 redirect)."""
    terms = parse_spf_terms(record)
    for term in terms["terms"]:
        low = term.lower()
        qualifier = QUALIFIERS.get(low[:1])
        mech = low[1:] if qualifier else low
        kind, _, arg = mech.partition(":")
        kind, arg = kind.split("/", 1)[0], arg.split("/", 1)[0]
        if kind == "all":
            return qualifier or "pass", via
        if "%" in arg or kind not in ("include", "a", "mx", "exists"):
            continue  # macros expand per message; other terms need no lookup here
        if kind == "include" and arg and arg not in seen and len(seen) < MAX_LOOKUPS:
            seen.add(arg)
            try:
                target = _spf_of(arg, resolver)
            except LookupFailed as exc:
                walk.failures.append(exc)
                continue
            if target is not None:
                inner, path = _walk(target, resolver, walk, seen, via + [f"include:{arg}"])
                # a matching include takes the include's own qualifier: +include of +all passes all
                if inner == "pass" and (qualifier or "pass") == "pass":
                    return "pass", path
        elif kind in ("a", "mx", "exists") and arg:
            try:
                resolve(arg, {"a": "A", "mx": "MX", "exists": "A"}[kind], resolver=resolver)
            except LookupFailed as exc:
                walk.failures.append(exc)
    target_name = terms["redirect"]
    if target_name and "%" not in target_name and target_name not in seen and len(seen) < MAX_LOOKUPS:
        seen.add(target_name)
        try:
            target = _spf_of(target_name, resolver)
        except LookupFailed as exc:
            walk.failures.append(exc)
            return None, via
        if target is not None:
            return _walk(target, resolver, walk, seen, via + [f"redirect={target_name}"])
    return None, via


def walk_spf(domain: str, record: str, *, resolver: dns.resolver.Resolver) -> SpfWalk:
    """Follow ``record``'s includes and redirects: the effective ``all`` and every failed lookup."""
    walk = SpfWalk()
    walk.all, walk.via = _walk(record, resolver, walk, {domain.lower()}, [])
    return walk


def policy_findings(record: str, domain: str, walk: SpfWalk | None = None) -> list[Finding]:
    """Findings from the policy: +all (also through includes and redirects), ?all or no all, ptr."""
    terms = parse_spf_terms(record)
    subject = f"domain:{domain}"
    found: list[Finding] = []
    hops = " -> ".join(walk.via) if walk and walk.via else ""
    if hops and walk is not None and walk.all == "pass":
        found.append(finding("SPF-PASS-ALL", msg("'{record}' reaches +all through {hops}: any host may send as "
                                                 "{domain}", record=record, hops=hops, domain=domain),
                             subject=subject, evidence={"via": walk.via}))
    elif terms["all"] == "pass":
        found.append(finding("SPF-PASS-ALL", msg("'{record}' lets any host send as {domain}", record=record,
                                                 domain=domain), subject=subject))
    elif hops and walk is not None and walk.all in ("neutral", None) and terms["redirect"] and not walk.failures:
        found.append(finding("SPF-NEUTRAL-ALL", msg("'{record}' redirects through {hops} to a policy ending "
                                                    "?all or without all: unlisted hosts are neither allowed "
                                                    "nor refused", record=record, hops=hops),
                             subject=subject, evidence={"via": walk.via}))
    elif terms["all"] == "neutral":
        found.append(finding("SPF-NEUTRAL-ALL", msg("'{record}' ends ?all: unlisted hosts are neither "
                                                    "allowed nor refused", record=record), subject=subject))
    elif terms["all"] is None and terms["redirect"] is None:
        found.append(finding("SPF-NEUTRAL-ALL", msg("'{record}' has no 'all' and no 'redirect': the default "
                                                    "result is neutral", record=record), subject=subject))
    if terms["ptr"]:
        found.append(finding("SPF-PTR", msg("the ptr mechanism is slow and unreliable; use ip4/ip6/a/include"),
                             subject=subject))
    return found


def count_findings(lookups: int | None, voids: int | None, domain: str) -> list[Finding]:
    """Findings from the DNS lookup counts (RFC 7208 §4.6.4 limits)."""
    subject = f"domain:{domain}"
    found = []
    if lookups is not None and lookups > MAX_LOOKUPS:
        found.append(finding("SPF-TOO-MANY-LOOKUPS", msg("{lookups} DNS-querying terms after includes and "
                                                         "redirects (limit {limit}): receivers return permerror",
                                                         lookups=lookups, limit=MAX_LOOKUPS),
                             subject=subject, evidence={"dns_lookups": lookups}))
    if voids is not None and voids > MAX_VOID_LOOKUPS:
        found.append(finding("SPF-VOID-LOOKUPS", msg("{voids} lookups return no answer (limit {limit})",
                                                     voids=voids, limit=MAX_VOID_LOOKUPS),
                             subject=subject, evidence={"void_dns_lookups": voids}))
    return found


def get_spf(domain: str, *, resolver: dns.resolver.Resolver) -> str:
    """The domain's one SPF record; raises checkdmarc's SPFRecordNotFound/MultipleSPFRTXTRecords."""
    return cd.query_spf_record(domain, **cd_args(resolver))["record"]


def _temperror(domain: str, failures: list[LookupFailed]) -> list[Finding]:
    """SPF-TEMPERROR once for the domain and DNS-LOOKUP-FAILED per failed name (RFC 7208 §2.6.6)."""
    subject = f"domain:{domain}"
    unique = list({(f.name, f.rdtype): f for f in failures}.values())
    names = ", ".join(f"{f.name} ({f.error})" for f in unique)
    found = [finding("SPF-TEMPERROR", msg("DNS failed for {names} while evaluating SPF: receivers return "
                                          "temperror and defer or accept unauthenticated", names=names),
                     subject=subject, evidence={"failed": [f.name for f in unique]})]
    return found + [lookup_failed("spf", f, subject) for f in unique]


def check_spf(domain: str, *, resolver: dns.resolver.Resolver, ips: Iterable[str] = ()) -> CheckResult:
    """The SPF record, its counts and policy, and check_host() of each sending IP."""
    subject = f"domain:{domain}"
    try:
        records = txt_records(domain, resolver=resolver) or []
    except LookupFailed as exc:
        return CheckResult(None, [lookup_failed("spf", exc, subject)])
    spf = [r for r in records if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")]
    if not spf:
        return CheckResult(None, [finding("SPF-MISSING", msg("no v=spf1 TXT record at {domain}", domain=domain),
                                          subject=subject)])
    if len(spf) > 1:
        return CheckResult(None, [finding("SPF-MULTIPLE", msg("{count} v=spf1 records at {domain}: receivers "
                                                               "return permerror", count=len(spf), domain=domain),
                                          subject=subject)])
    record = spf[0]
    info: dict[str, Any] = {"record": record}
    walk = walk_spf(domain, record, resolver=resolver)
    failures = list(walk.failures)
    found: list[Finding] = []
    if not failures:  # checkdmarc would call a DNS failure in an include a permerror
        try:
            parsed = cd.parse_spf_record(record, domain, ignore_too_many_lookups=True, **cd_args(resolver))
            info.update(dns_lookups=parsed["dns_lookups"], void_dns_lookups=parsed["void_dns_lookups"],
                        warnings=list(parsed.get("warnings") or []))
            found += count_findings(parsed["dns_lookups"], parsed["void_dns_lookups"], domain)
        except cd.SPFTooManyDNSLookups as exc:
            found.append(finding("SPF-TOO-MANY-LOOKUPS", msg("{error}", error=str(exc)), subject=subject,
                                 evidence={"dns_lookups": getattr(exc, "dns_lookups", None)}))
        except cd.SPFTooManyVoidDNSLookups as exc:
            found.append(finding("SPF-VOID-LOOKUPS", msg("{error}", error=str(exc)), subject=subject))
        except cd.SPFError as exc:
            error = dns_error(exc)
            if error:
                failures.append(LookupFailed(domain, "TXT", error))
            else:
                found.append(finding("SPF-SYNTAX", msg("permerror: {error}", error=str(exc)), subject=subject))
    found += policy_findings(record, domain, walk)
    results = {}
    for ip in ips:
        result, explanation, failed = check_host_traced(ip, domain, resolver=resolver)
        results[ip] = result
        if result == "temperror":  # RFC 7208 §2.6.6: not a verdict on the IP
            failures += failed or [LookupFailed(domain, "TXT", explanation or "temperror")]
        elif result != "pass":
            detail = (msg("check_host({ip}, {domain}) = {result}: {explanation}", ip=ip, domain=domain,
                          result=result, explanation=explanation) if explanation else
                      msg("check_host({ip}, {domain}) = {result}", ip=ip, domain=domain, result=result))
            found.append(finding("SPF-IP-NOT-AUTHORISED", detail, subject=f"ip:{ip}",
                                 evidence={"result": result, "domain": domain}))
    if failures:
        found += _temperror(domain, failures)
        info["temperror"] = sorted({f.name for f in failures})
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
    except dns.exception.DNSException as exc:
        error = dns_error(exc)
        if error is None:  # a name that cannot be asked (too long, empty label): the record is wrong
            raise pyspf.PermError(f"DNS {name} {qtype}: {exc}") from None
        failed = LookupFailed(name, qtype, error)
        getattr(_local, "failures", []).append(failed)
        raise pyspf.TempError(f"DNS {failed}") from None
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
    result, explanation, _ = check_host_traced(ip, domain, resolver=resolver)
    return result, explanation


def check_host_traced(ip: str, domain: str, *,
                      resolver: dns.resolver.Resolver) -> tuple[str, str, list[LookupFailed]]:
    """check_host() and the lookups that failed during it (the cause of a temperror)."""
    _local.failures = []
    try:
        with _through(resolver):
            result, explanation = pyspf.check2(i=ip, s=f"postmaster@{domain}", h=domain,
                                               querytime=float(resolver.lifetime or 4))
        return result, explanation or "", list(_local.failures)
    finally:
        _local.failures = []
