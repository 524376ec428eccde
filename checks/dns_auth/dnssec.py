"""DNSSEC (RFC 4033-4035): is the zone signed, and does its chain from the parent's DS validate?"""

from __future__ import annotations

import copy
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

from checks.catalogue import finding
from checks.dns_auth import CheckResult, LookupFailed, lookup_failed, resolve
from checks.findings import Finding
from checks.i18n import msg


def _dnssec_resolver(resolver: dns.resolver.Resolver) -> dns.resolver.Resolver:
    """The audit's resolver asking with the DO bit (RFC 3225) so answers carry their RRSIGs, and
    CD (RFC 4035 §3.2.2) so a validating resolver hands over a bogus chain for us to judge
    instead of answering SERVFAIL."""
    out = copy.copy(resolver)
    out.use_edns(0, dns.flags.DO, 1232)
    out.flags = (resolver.flags if resolver.flags is not None else dns.flags.RD) | dns.flags.CD
    out.cache = None  # answers with signatures must not replace the shared cache's plain ones
    return out


def _signatures(answer: dns.resolver.Answer, rdtype: int) -> dns.rrset.RRset | None:
    response: dns.message.Message = answer.response
    try:
        return response.find_rrset(response.answer, answer.rrset.name, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                                   rdtype)
    except KeyError:
        return None


def bogus_reason(domain: str, ds: dns.rrset.RRset, keys: dns.resolver.Answer | None,
                 soa: dns.resolver.Answer | None, now: float | None = None) -> str | None:
    """Why the chain DS -> DNSKEY -> RRSIG does not validate (RFC 4035 §5), or None when it does."""
    if keys is None:
        return msg("the parent publishes DS for {domain} but the zone serves no DNSKEY", domain=domain)
    name = dns.name.from_text(domain)
    matching = [k for k in keys.rrset for d in ds
                if dns.dnssec.make_ds(name, k, d.digest_type) == d]
    if not matching:
        return msg("no DNSKEY of {domain} matches the parent's DS (key rolled without updating the registrar?)",
                   domain=domain)
    for answer, rdtype in ((keys, dns.rdatatype.DNSKEY), (soa, dns.rdatatype.SOA)):
        if answer is None:
            continue
        sigs = _signatures(answer, rdtype)
        label = dns.rdatatype.to_text(rdtype)
        if sigs is None and rdtype == dns.rdatatype.DNSKEY:
            return msg("the {rdtype} set of {domain} carries no RRSIG", rdtype=label, domain=domain)
        if sigs is None:
            continue  # judged on what is signed: the key set above proves the chain
        try:
            dns.dnssec.validate(answer.rrset, sigs, {name: keys.rrset}, now=now)
        except dns.dnssec.ValidationFailure as exc:
            expired = [s for s in sigs if s.expiration < (now or time.time())]
            why = msg("the signature expired") if expired else str(exc)
            return msg("the RRSIG over the {rdtype} set of {domain} does not validate: {why}",
                       rdtype=label, domain=domain, why=why)
    return None


def check_dnssec(domain: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """Signed and validating, DNSSEC-UNSIGNED (no DS at the parent), or DNSSEC-BOGUS (broken chain)."""
    subject = f"domain:{domain}"
    r = _dnssec_resolver(resolver)
    try:
        ds = resolve(domain, "DS", resolver=r)
        keys = resolve(domain, "DNSKEY", resolver=r)
        soa = resolve(domain, "SOA", resolver=r) if ds is not None else None
    except LookupFailed as exc:
        # validating resolvers SERVFAIL a bogus zone too, but a failure here proves nothing
        return CheckResult(None, [lookup_failed("dnssec", exc, subject)])
    if ds is None:
        detail = (msg("{domain} serves DNSKEY but the parent has no DS: the chain is not anchored", domain=domain)
                  if keys is not None else msg("no DS at the parent and no DNSKEY for {domain}", domain=domain))
        return CheckResult({"signed": False}, [finding("DNSSEC-UNSIGNED", detail, subject=subject)])
    why = bogus_reason(domain, ds.rrset, keys, soa)
    if why:
        found: list[Finding] = [finding("DNSSEC-BOGUS", msg("{why}: validating resolvers answer SERVFAIL for every "
                                                            "name of the domain", why=why), subject=subject)]
        return CheckResult({"signed": True, "valid": False}, found)
    return CheckResult({"signed": True}, [])
