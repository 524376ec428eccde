"""SMTP TLS Reporting (RFC 8460): the ``_smtp._tls`` record, through checkdmarc."""

from __future__ import annotations

import checkdmarc.smtp_tls_reporting as cd
import dns.resolver

from checks.catalogue import finding
from checks.dns_auth import CheckResult, cd_args, lookup_failure


def check_tlsrpt(domain: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """The TLS-RPT record; absent or unusable means no TLS failure reports."""
    subject = f"domain:{domain}"
    try:
        query = cd.query_smtp_tls_reporting_record(domain, **cd_args(resolver))
        parsed = cd.parse_smtp_tls_reporting_record(query["record"])
    except cd.SMTPTLSReportingRecordNotFound as exc:
        return CheckResult(None, [finding("TLSRPT-MISSING", f"no record at _smtp._tls.{domain} ({exc})",
                                          subject=subject, evidence=lookup_failure(exc))])
    except cd.SMTPTLSReportingError as exc:
        # RULES.md has no TLSRPT-INVALID: an unusable record sends no reports, like none
        return CheckResult(None, [finding("TLSRPT-MISSING", f"_smtp._tls.{domain} is unusable: {exc}",
                                          subject=subject)])
    return CheckResult({"record": query["record"], "tags": dict(parsed.get("tags") or {})}, [])
