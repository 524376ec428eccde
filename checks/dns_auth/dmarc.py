"""DMARC (RFC 7489): the record, its policy strength, and external report authorisation (§7.1)."""

from __future__ import annotations

from typing import Any

import checkdmarc.dmarc as cd
import dns.resolver
from publicsuffixlist import PublicSuffixList

from checks.catalogue import finding
from checks.dns_auth import (
    CheckResult,
    LookupFailed,
    cd_args,
    dns_error,
    lookup_failed,
    txt_records,
)
from checks.findings import Finding
from checks.i18n import msg

_PSL = PublicSuffixList()


def parse_dmarc_tags(record: str) -> dict[str, str]:
    """``tag=value`` pairs of a DMARC record, tag names lower-cased (no validation)."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            tags[name.strip().lower()] = value.strip()
    return tags


_ALLOWED = {"p": {"none", "quarantine", "reject"}, "sp": {"none", "quarantine", "reject"},
            "adkim": {"r", "s"}, "aspf": {"r", "s"}}


def tag_problems(record: str) -> list[str]:
    """RFC 7489 §6.3 violations that DMARCbis (and so checkdmarc 6) would quietly default away."""
    tags = parse_dmarc_tags(record)
    problems: list[str] = [] if "p" in tags else [msg("no p= tag (required by RFC 7489 §6.3)")]
    for tag, allowed in _ALLOWED.items():
        if tag in tags and tags[tag].lower() not in allowed:
            problems.append(msg("{tag}={value} is not one of {allowed}", tag=tag, value=tags[tag],
                                allowed=", ".join(sorted(allowed))))
    pct = tags.get("pct")
    if pct is not None and not (pct.isdigit() and 0 <= int(pct) <= 100):
        problems.append(msg("pct={pct} is not an integer from 0 to 100", pct=pct))
    return problems


def report_domains(rua: str) -> list[str]:
    """The domains of the ``mailto:`` addresses in a ``rua``/``ruf`` value."""
    out = []
    for uri in (u.strip() for u in rua.split(",")):
        if uri.lower().startswith("mailto:") and "@" in uri:
            out.append(uri.split("@", 1)[1].split("!", 1)[0].strip().lower().rstrip("."))
    return out


def org_domain(domain: str) -> str:
    """The organisational domain (RFC 7489 §3.2): one label below the public suffix."""
    domain = domain.lower().rstrip(".")
    return _PSL.privatesuffix(domain) or domain


def policy_findings(record: str, domain: str, *, inherited_from: str | None = None) -> list[Finding]:
    """Findings from the policy: p=none, pct<100, no rua, sp=none; for a subdomain without a record
    of its own, the organisational domain's ``sp=`` (else ``p=``) applies (RFC 7489 §6.6.3)."""
    tags = parse_dmarc_tags(record)
    subject = f"domain:{domain}"
    found: list[Finding] = []
    p = tags.get("p", "").lower()
    if inherited_from:
        applied = tags.get("sp", "").lower() or p
        if applied == "none":
            tag = "sp" if tags.get("sp") else "p"
            found.append(finding("DMARC-POLICY-NONE", msg("{domain} has no DMARC record of its own and {org} sets "
                                                          "{tag}=none for its subdomains: spoofed mail is delivered",
                                                          domain=domain, org=inherited_from, tag=tag),
                                 subject=subject, evidence={"policy_domain": inherited_from}))
    elif p == "none":
        found.append(finding("DMARC-POLICY-NONE", msg("p=none: receivers only report, spoofed mail is delivered"),
                             subject=subject))
    pct = tags.get("pct")
    if pct is not None and pct.isdigit() and int(pct) < 100:
        found.append(finding("DMARC-PCT-PARTIAL", msg("pct={pct}: the policy applies to {pct}% of failing mail",
                                                      pct=pct), subject=subject))
    if not tags.get("rua"):
        found.append(finding("DMARC-NO-RUA", msg("no rua= tag: nobody receives aggregate reports"), subject=subject))
    if not inherited_from and tags.get("sp", "").lower() == "none" and p in ("quarantine", "reject"):
        found.append(finding("DMARC-WEAK-SUBDOMAIN", msg("sp=none while p={p}: subdomains can be spoofed", p=p),
                             subject=subject))
    return found


def get_dmarc(domain: str, *, resolver: dns.resolver.Resolver) -> dict[str, Any]:
    """checkdmarc's query result (``record``, ``location``); raises its DMARCError subclasses."""
    return dict(cd.query_dmarc_record(domain, **cd_args(resolver)))


def _records_at(domain: str, resolver: dns.resolver.Resolver) -> list[str]:
    """The ``v=DMARC1`` TXT records at ``_dmarc.<domain>``; raises LookupFailed."""
    return [r for r in txt_records(f"_dmarc.{domain}", resolver=resolver) or []
            if r.replace(" ", "").lower().startswith("v=dmarc1")]


def discover(domain: str, *, resolver: dns.resolver.Resolver) -> tuple[list[str], str]:
    """RFC 7489 §6.6.3: the records at ``_dmarc.<domain>``, else at the organisational domain,
    and the domain where they were looked up last; raises LookupFailed."""
    records = _records_at(domain, resolver)
    org = org_domain(domain)
    if records or org == domain:
        return records, domain
    return _records_at(org, resolver), org


def _authorised(policy_domain: str, dest: str, resolver: dns.resolver.Resolver) -> bool:
    """RFC 7489 §7.1: ``<policy domain>._report._dmarc.<dest>`` holds a ``v=DMARC1`` TXT."""
    records = txt_records(f"{policy_domain}._report._dmarc.{dest}", resolver=resolver) or []
    return any(r.replace(" ", "").lower().startswith("v=dmarc1") for r in records)


def report_findings(tags: dict[str, str], domain: str, policy_domain: str, *,
                    resolver: dns.resolver.Resolver) -> list[Finding]:
    """External ``rua``/``ruf`` domains without authorisation, checked relative to the domain where
    the policy was found (RFC 7489 §7.1); a failed lookup is DNS-LOOKUP-FAILED, not unauthorised."""
    subject = f"domain:{domain}"
    found: list[Finding] = []
    checked: dict[str, bool | None] = {}
    for tag, rule_id in (("rua", "DMARC-RUA-UNAUTHORISED"), ("ruf", "DMARC-RUF-UNAUTHORISED")):
        for dest in sorted(set(report_domains(tags.get(tag, "")))):
            if org_domain(dest) == org_domain(policy_domain):
                continue
            if dest not in checked:
                try:
                    checked[dest] = _authorised(policy_domain, dest, resolver)
                except LookupFailed as exc:
                    checked[dest] = None
                    found.append(lookup_failed("dmarc", exc, subject))
            if checked[dest] is False:
                found.append(finding(rule_id, msg("{dest} has no TXT \"v=DMARC1\" at {policy_domain}._report._dmarc."
                                                  "{dest}: it will discard the {tag} reports",
                                                  dest=dest, policy_domain=policy_domain, tag=tag),
                                     subject=subject, evidence={"report_domain": dest, "tag": tag}))
    return found


def check_dmarc(domain: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """The DMARC record (the domain's or its organisational domain's), validity, policy, reports."""
    domain = domain.lower().rstrip(".")
    subject = f"domain:{domain}"
    try:
        records, location = discover(domain, resolver=resolver)
    except LookupFailed as exc:
        return CheckResult(None, [lookup_failed("dmarc", exc, subject)])
    if not records:
        where = f"_dmarc.{domain}" + (f" nor _dmarc.{location}" if location != domain else "")
        return CheckResult(None, [finding("DMARC-MISSING", msg("no record at {where}", where=where), subject=subject)])
    if len(records) > 1:
        return CheckResult(None, [finding("DMARC-INVALID", msg("{count} DMARC records at _dmarc.{location}: "
                                                               "receivers apply none (RFC 7489 §6.6.3)",
                                                               count=len(records), location=location),
                                          subject=subject)])
    record = records[0]
    info: dict[str, Any] = {"record": record, "location": location}
    try:
        # checkdmarc validates tags and values; its DNS lookups (report MX) go through our resolver
        cd.parse_dmarc_record(record, location, **cd_args(resolver))
    except cd.DMARCError as exc:
        error = dns_error(exc)
        if error:
            return CheckResult(info, [lookup_failed("dmarc", LookupFailed(f"_dmarc.{location}", "TXT", error),
                                                    subject)])
        return CheckResult(info, [finding("DMARC-INVALID", msg("{error}", error=str(exc)), subject=subject)])
    problems = tag_problems(record)
    if problems:
        # one problem keeps its own template (translated as such); several are listed together
        detail = problems[0] if len(problems) == 1 else msg("{problems}", problems="; ".join(problems))
        return CheckResult(info, [finding("DMARC-INVALID", detail, subject=subject)])
    inherited = location if location != domain else None
    found = policy_findings(record, domain, inherited_from=inherited)
    tags = parse_dmarc_tags(record)
    found += report_findings(tags, domain, location, resolver=resolver)
    info["tags"] = tags
    if inherited:
        # the policy this subdomain gets: sp= of the organisational domain, else its p=
        info["applied_policy"] = (tags.get("sp") or tags.get("p") or "").lower()
    return CheckResult(info, found)
