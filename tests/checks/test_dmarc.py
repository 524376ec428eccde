"""DMARC: every DMARC-* id, positive and negative, against zones on the loopback server."""

from __future__ import annotations

import pytest

from checks.dns_auth.dmarc import check_dmarc, parse_dmarc_tags, policy_findings, report_domains
from tests.checks.conftest import DOMAIN, ids, zone


def dmarc_zone(record: str, *extra: str) -> str:
    return zone(f'_dmarc IN TXT "{record}"', f"@ IN MX 10 mail.{DOMAIN}.", "mail IN A 192.0.2.10", *extra,
                good=False)


def test_strict_record_has_no_findings(serve) -> None:
    result = check_dmarc(DOMAIN, resolver=serve(zone()))
    assert result.findings == []
    assert result.record["tags"]["p"] == "reject"


def test_missing(serve) -> None:
    assert ids(check_dmarc(DOMAIN, resolver=serve(zone(good=False))).findings) == {"DMARC-MISSING"}


@pytest.mark.parametrize("record", ["v=DMARC1; p=bogus; rua=mailto:d@example.test",
                                    "v=DMARC1; p=reject; adkim=x; rua=mailto:d@example.test",
                                    "v=DMARC1; p=reject; fo=9; rua=mailto:d@example.test",
                                    "v=DMARC1; p=reject; pct=150; rua=mailto:d@example.test",
                                    "v=DMARC1 p=reject",
                                    "v=DMARC1; rua=mailto:d@example.test"])
def test_invalid(serve, record: str) -> None:
    assert ids(check_dmarc(DOMAIN, resolver=serve(dmarc_zone(record))).findings) == {"DMARC-INVALID"}


def test_policy_none(serve) -> None:
    r = serve(dmarc_zone(f"v=DMARC1; p=none; rua=mailto:d@{DOMAIN}"))
    assert ids(check_dmarc(DOMAIN, resolver=r).findings) == {"DMARC-POLICY-NONE"}


def test_partial_pct(serve) -> None:
    r = serve(dmarc_zone(f"v=DMARC1; p=quarantine; pct=50; rua=mailto:d@{DOMAIN}"))
    assert ids(check_dmarc(DOMAIN, resolver=r).findings) == {"DMARC-PCT-PARTIAL"}


def test_no_rua(serve) -> None:
    assert ids(check_dmarc(DOMAIN, resolver=serve(dmarc_zone("v=DMARC1; p=reject"))).findings) == {"DMARC-NO-RUA"}


def test_weak_subdomain_policy(serve) -> None:
    r = serve(dmarc_zone(f"v=DMARC1; p=reject; sp=none; rua=mailto:d@{DOMAIN}"))
    assert ids(check_dmarc(DOMAIN, resolver=r).findings) == {"DMARC-WEAK-SUBDOMAIN"}


def test_external_rua_without_authorisation(serve) -> None:
    r = serve(dmarc_zone("v=DMARC1; p=reject; rua=mailto:reports@vendor.test",
                         "vendor.test. IN MX 10 mx.vendor.test.", "mx.vendor.test. IN A 192.0.2.99"))
    found = check_dmarc(DOMAIN, resolver=r).findings
    assert ids(found) == {"DMARC-RUA-UNAUTHORISED"}
    assert found[0].evidence["report_domain"] == "vendor.test"


def test_external_rua_with_authorisation(serve) -> None:
    r = serve(dmarc_zone("v=DMARC1; p=reject; rua=mailto:reports@vendor.test",
                         "vendor.test. IN MX 10 mx.vendor.test.", "mx.vendor.test. IN A 192.0.2.99",
                         f'{DOMAIN}._report._dmarc.vendor.test. IN TXT "v=DMARC1"'))
    assert check_dmarc(DOMAIN, resolver=r).findings == []


def test_pure_parsing() -> None:
    tags = parse_dmarc_tags("v=DMARC1; p=reject; rua=mailto:a@x.test,mailto:b@y.test!10m")
    assert report_domains(tags["rua"]) == ["x.test", "y.test"]
    assert ids(policy_findings("v=DMARC1; p=reject; sp=none", DOMAIN)) == {"DMARC-NO-RUA", "DMARC-WEAK-SUBDOMAIN"}
    assert ids(policy_findings("v=DMARC1; p=none; sp=none; rua=mailto:a@x.test", DOMAIN)) == {"DMARC-POLICY-NONE"}
