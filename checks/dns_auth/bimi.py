"""BIMI (draft-brand-indicators-for-message-identification): the ``default._bimi`` record."""

from __future__ import annotations

import checkdmarc.bimi as cd
import dns.resolver

from checks.catalogue import finding
from checks.dns_auth import CheckResult, cd_args, lookup_failure


def check_bimi(domain: str, *, resolver: dns.resolver.Resolver, selector: str = "default") -> CheckResult:
    """The BIMI record at ``selector._bimi``; its logo and certificate are not fetched."""
    subject = f"domain:{domain}"
    try:
        query = cd.query_bimi_record(domain, selector=selector, **cd_args(resolver))
    except cd.BIMIRecordNotFound as exc:
        return CheckResult(None, [finding("BIMI-MISSING", f"no record at {selector}._bimi.{domain} ({exc})",
                                          subject=subject, evidence=lookup_failure(exc))])
    except cd.BIMIError as exc:
        # no BIMI-INVALID id: a broken record shows no logo, like none
        return CheckResult(None, [finding("BIMI-MISSING", f"{selector}._bimi.{domain} is unusable: {exc}",
                                          subject=subject)])
    if not query.get("record"):
        return CheckResult(None, [finding("BIMI-MISSING", f"no record at {selector}._bimi.{domain}",
                                          subject=subject)])
    return CheckResult({"record": query["record"], "location": query.get("location")}, [])
