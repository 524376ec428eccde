"""BIMI (draft-brand-indicators-for-message-identification): the ``default._bimi`` record."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import checkdmarc.bimi as cd
import dns.resolver

from checks.catalogue import finding
from checks.dns_auth import (
    CheckResult,
    LookupFailed,
    cd_args,
    checkdmarc_failure,
    lookup_failed,
    txt_records,
)
from checks.dns_auth.dmarc import discover, parse_dmarc_tags
from checks.findings import Finding
from checks.i18n import msg

parse_bimi_tags = parse_dmarc_tags  # the same ``tag=value;`` syntax, tag names lower-cased


def record_problems(record: str) -> list[str]:
    """Why receivers cannot use the record (BIMI draft §4.2): version, an HTTPS SVG logo, an HTTPS VMC."""
    tags = parse_bimi_tags(record)
    if not record.replace(" ", "").startswith("v=BIMI1;") and record.strip() != "v=BIMI1":
        return [msg("the record must start with v=BIMI1;")]
    problems: list[str] = []
    logo = tags.get("l", "")
    if not logo:
        problems.append(msg("no l= logo location"))
    else:
        url = urlsplit(logo)
        if url.scheme.lower() != "https" or not url.netloc:
            problems.append(msg("l={logo} is not an https URL", logo=logo))
        elif not url.path.lower().endswith(".svg"):
            problems.append(msg("l={logo} is not an SVG (SVG Tiny PS) file", logo=logo))
    evidence_url = tags.get("a", "")
    if evidence_url and urlsplit(evidence_url).scheme.lower() != "https":
        problems.append(msg("a={url} is not an https URL", url=evidence_url))
    return problems


def enforcement_problem(domain: str, *, resolver: dns.resolver.Resolver) -> str | None:
    """Why DMARC does not enforce for ``domain`` (BIMI draft §4.1), None when it does or is unknown."""
    try:
        records, location = discover(domain, resolver=resolver)
    except LookupFailed:
        return None  # the DMARC check reports the failure; no verdict on what was not seen
    if len(records) != 1:
        return msg("{domain} has no usable DMARC record", domain=domain)
    tags = parse_dmarc_tags(records[0])
    policy = ((tags.get("sp") or tags.get("p")) if location != domain else tags.get("p", "")) or ""
    if policy.lower() not in ("quarantine", "reject"):
        return msg("DMARC policy is p={policy}", policy=policy.lower() or "(none)")
    pct = tags.get("pct", "100")
    if pct.isdigit() and int(pct) < 100:
        return msg("DMARC applies to pct={pct}% of failing mail", pct=pct)
    return None


def check_bimi(domain: str, *, resolver: dns.resolver.Resolver, selector: str = "default") -> CheckResult:
    """The BIMI record at ``selector._bimi``: present, usable, and backed by an enforcing DMARC policy.

    The logo and certificate are not fetched.
    """
    subject = f"domain:{domain}"
    name = f"{selector}._bimi.{domain}"
    try:
        txt_records(name, resolver=resolver)  # a failure here is no absence (RULES.md §7)
        query = cd.query_bimi_record(domain, selector=selector, **cd_args(resolver))
    except LookupFailed as exc:
        return CheckResult(None, [lookup_failed("bimi", exc, subject)])
    except cd.BIMIError as exc:
        return checkdmarc_failure(exc, record="bimi", name=name, subject=subject, not_found=cd.BIMIRecordNotFound,
                                  missing="BIMI-MISSING", invalid="BIMI-INVALID")
    record = query.get("record")
    if not record:
        return CheckResult(None, [finding("BIMI-MISSING", msg("no record at {name}", name=name), subject=subject)])
    info: dict[str, Any] = {"record": record, "location": query.get("location")}
    tags = parse_bimi_tags(record)
    if not tags.get("l") and not tags.get("a"):
        # a declination record (BIMI draft §4.3): the domain publishes no logo on purpose
        return CheckResult(info, [finding("BIMI-MISSING", msg("{name} declines BIMI (empty l= and a=)", name=name),
                                          subject=subject)])
    problems = record_problems(record)
    found: list[Finding] = []
    if problems:
        # an unusable record counts as no record (a http l= is not a logo)
        info["problems"] = problems
        found.append(finding("BIMI-INVALID", msg("{name}: {problems}", name=name, problems="; ".join(problems)),
                             subject=subject, evidence={"record": record}))
    why = enforcement_problem(domain, resolver=resolver)
    if why:
        found.append(finding("BIMI-NO-ENFORCEMENT", msg("BIMI is published but {why}: mailbox providers show no "
                                                        "logo", why=why), subject=subject))
    return CheckResult(None if problems else info, found)
