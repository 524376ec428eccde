"""SMTP TLS Reporting (RFC 8460): the ``_smtp._tls`` record, through checkdmarc."""

from __future__ import annotations

import checkdmarc.smtp_tls_reporting as cd
import dns.resolver

from checks.dns_auth import (
    CheckResult,
    LookupFailed,
    cd_args,
    checkdmarc_failure,
    lookup_failed,
    txt_records,
)


def check_tlsrpt(domain: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """The TLS-RPT record; absent or unusable means no TLS failure reports."""
    subject = f"domain:{domain}"
    name = f"_smtp._tls.{domain}"
    try:
        txt_records(name, resolver=resolver)  # a failure here is no absence (RULES.md §7)
        query = cd.query_smtp_tls_reporting_record(domain, **cd_args(resolver))
        parsed = cd.parse_smtp_tls_reporting_record(query["record"])
    except LookupFailed as exc:
        return CheckResult(None, [lookup_failed("tlsrpt", exc, subject)])
    except cd.SMTPTLSReportingError as exc:
        # RULES.md has no TLSRPT-INVALID: an unusable record sends no reports, like none
        return checkdmarc_failure(exc, record="tlsrpt", name=name, subject=subject,
                                  not_found=cd.SMTPTLSReportingRecordNotFound, missing="TLSRPT-MISSING",
                                  invalid="TLSRPT-MISSING")
    return CheckResult({"record": query["record"], "tags": dict(parsed.get("tags") or {})}, [])
