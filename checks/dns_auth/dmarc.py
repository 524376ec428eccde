"""DMARC (RFC 7489): the record, its policy strength, and external report authorisation (§7.1)."""

from __future__ import annotations

from typing import Any

import checkdmarc.dmarc as cd
import dns.resolver
from checkdmarc.utils import get_base_domain

from checks.catalogue import finding
from checks.dns_auth import CheckResult, cd_args
from checks.findings import Finding


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
    problems = [] if "p" in tags else ["no p= tag (required by RFC 7489 §6.3)"]
    for tag, allowed in _ALLOWED.items():
        if tag in tags and tags[tag].lower() not in allowed:
            problems.append(f"{tag}={tags[tag]} is not one of {', '.join(sorted(allowed))}")
    pct = tags.get("pct")
    if pct is not None and not (pct.isdigit() and 0 <= int(pct) <= 100):
        problems.append(f"pct={pct} is not an integer from 0 to 100")
    return problems


def report_domains(rua: str) -> list[str]:
    """The domains of the ``mailto:`` addresses in a ``rua``/``ruf`` value."""
    out = []
    for uri in (u.strip() for u in rua.split(",")):
        if uri.lower().startswith("mailto:") and "@" in uri:
            out.append(uri.split("@", 1)[1].split("!", 1)[0].strip().lower().rstrip("."))
    return out


def policy_findings(record: str, domain: str) -> list[Finding]:
    """Findings from the record text alone: p=none, pct<100, no rua, sp=none."""
    tags = parse_dmarc_tags(record)
    subject = f"domain:{domain}"
    found: list[Finding] = []
    p = tags.get("p", "").lower()
    if p == "none":
        found.append(finding("DMARC-POLICY-NONE", "p=none: receivers only report, spoofed mail is delivered",
                             subject=subject))
    pct = tags.get("pct")
    if pct is not None and pct.isdigit() and int(pct) < 100:
        found.append(finding("DMARC-PCT-PARTIAL", f"pct={pct}: the policy applies to {pct}% of failing mail",
                             subject=subject))
    if not tags.get("rua"):
        found.append(finding("DMARC-NO-RUA", "no rua= tag: nobody receives aggregate reports", subject=subject))
    if tags.get("sp", "").lower() == "none" and p in ("quarantine", "reject"):
        found.append(finding("DMARC-WEAK-SUBDOMAIN", f"sp=none while p={p}: subdomains can be spoofed",
                             subject=subject))
    return found


def get_dmarc(domain: str, *, resolver: dns.resolver.Resolver) -> dict[str, Any]:
    """checkdmarc's query result (``record``, ``location``); raises its DMARCError subclasses."""
    return dict(cd.query_dmarc_record(domain, **cd_args(resolver)))


def check_dmarc(domain: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """The DMARC record, its validity, policy and report authorisation."""
    subject = f"domain:{domain}"
    try:
        query = get_dmarc(domain, resolver=resolver)
    except cd.DMARCRecordNotFound as exc:
        return CheckResult(None, [finding("DMARC-MISSING", f"no record at _dmarc.{domain} ({exc})", subject=subject)])
    except cd.DMARCError as exc:
        if type(exc) is cd.DMARCError:  # checkdmarc wraps a failed lookup in the bare base class
            return CheckResult(None, [finding("DMARC-MISSING", f"_dmarc.{domain} lookup failed: {exc}",
                                              subject=subject, evidence={"dns_error": str(exc)})])
        return CheckResult(None, [finding("DMARC-INVALID", str(exc), subject=subject)])
    record = query.get("record")
    if not record:
        return CheckResult(None, [finding("DMARC-MISSING", f"no record at _dmarc.{domain}", subject=subject)])
    info: dict[str, Any] = {"record": record, "location": query.get("location")}
    try:
        # checkdmarc validates tags and values; its DNS lookups (report MX) go through our resolver
        cd.parse_dmarc_record(record, query.get("location") or domain, **cd_args(resolver))
    except cd.DMARCError as exc:
        return CheckResult(info, [finding("DMARC-INVALID", str(exc), subject=subject)])
    problems = tag_problems(record)
    if problems:
        return CheckResult(info, [finding("DMARC-INVALID", "; ".join(problems), subject=subject)])
    found = policy_findings(record, domain)
    tags = parse_dmarc_tags(record)
    for dest in sorted(set(report_domains(tags.get("rua", "")))):
        if get_base_domain(dest) == get_base_domain(domain):
            continue
        try:
            cd.verify_dmarc_report_destination(domain, dest, **cd_args(resolver))
        except cd.UnverifiedDMARCURIDestination:
            found.append(finding("DMARC-RUA-UNAUTHORISED",
                                 f"{dest} has no TXT \"v=DMARC1\" at {domain}._report._dmarc.{dest}: "
                                 "it will discard the reports", subject=subject, evidence={"report_domain": dest}))
    info["tags"] = tags
    return CheckResult(info, found)
