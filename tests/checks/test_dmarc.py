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


# --- subdomains: organisational-domain discovery (RFC 7489 §6.6.3) and report authorisation (§7.1)

SUB = f"news.{DOMAIN}"
VENDOR = ("vendor.test. IN MX 10 mx.vendor.test.", "mx.vendor.test. IN A 192.0.2.99")


def test_subdomain_without_a_record_gets_the_organisational_sp(serve) -> None:
    r = serve(dmarc_zone(f"v=DMARC1; p=reject; sp=none; rua=mailto:d@{DOMAIN}", "news IN A 192.0.2.10"))
    result = check_dmarc(SUB, resolver=r)
    assert ids(result.findings) == {"DMARC-POLICY-NONE"}  # not DMARC-MISSING: the org record applies
    assert result.findings[0].subject == f"domain:{SUB}"
    assert result.record["location"] == DOMAIN and result.record["applied_policy"] == "none"


def test_subdomain_with_an_enforcing_sp_or_its_own_record_is_fine(serve) -> None:
    r = serve(dmarc_zone(f"v=DMARC1; p=none; sp=reject; rua=mailto:d@{DOMAIN}", "news IN A 192.0.2.10"))
    assert check_dmarc(SUB, resolver=r).findings == []  # sp=reject applies, the org's p=none does not
    r = serve(dmarc_zone(f"v=DMARC1; p=reject; sp=none; rua=mailto:d@{DOMAIN}",
                         f'_dmarc.news IN TXT "v=DMARC1; p=reject; rua=mailto:d@{DOMAIN}"'))
    assert check_dmarc(SUB, resolver=r).findings == []


def test_subdomain_without_any_record_is_missing(serve) -> None:
    assert ids(check_dmarc(SUB, resolver=serve(zone(good=False))).findings) == {"DMARC-MISSING"}


def test_subdomain_rua_authorisation_is_looked_up_where_the_policy_was_found(serve) -> None:
    record = "v=DMARC1; p=reject; rua=mailto:reports@vendor.test"
    authorised = serve(dmarc_zone(record, *VENDOR, f'{DOMAIN}._report._dmarc.vendor.test. IN TXT "v=DMARC1"'))
    assert check_dmarc(SUB, resolver=authorised).findings == []  # not {SUB}._report._dmarc.vendor.test
    wrong = serve(dmarc_zone(record, *VENDOR, f'{SUB}._report._dmarc.vendor.test. IN TXT "v=DMARC1"'))
    found = check_dmarc(SUB, resolver=wrong).findings
    assert ids(found) == {"DMARC-RUA-UNAUTHORISED"} and f"{DOMAIN}._report._dmarc" in found[0].detail


def test_external_ruf_without_authorisation(serve) -> None:
    record = f"v=DMARC1; p=reject; rua=mailto:d@{DOMAIN}; ruf=mailto:forensic@vendor.test"
    found = check_dmarc(DOMAIN, resolver=serve(dmarc_zone(record, *VENDOR))).findings
    assert ids(found) == {"DMARC-RUF-UNAUTHORISED"}
    assert found[0].evidence == {"report_domain": "vendor.test", "tag": "ruf"}
    fixed = serve(dmarc_zone(record, *VENDOR, f'{DOMAIN}._report._dmarc.vendor.test. IN TXT "v=DMARC1"'))
    assert check_dmarc(DOMAIN, resolver=fixed).findings == []


# --- DNS failures are not absences ---------------------------------------------------------------

@pytest.mark.parametrize("mode", ["servfail", "timeout"])
def test_failed_dmarc_lookup_is_not_missing(dns_server, resolver_for, mode: str) -> None:
    server = dns_server(zone(), failures={f"_dmarc.{DOMAIN}": mode})
    found = check_dmarc(DOMAIN, resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].subject == f"domain:{DOMAIN}"
    assert found[0].evidence == {"record": "dmarc", "name": f"_dmarc.{DOMAIN}", "rdtype": "TXT",
                                 "error": "SERVFAIL" if mode == "servfail" else "timeout"}


def test_failed_organisational_lookup_for_a_subdomain_is_not_missing(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={f"_dmarc.{DOMAIN}": "servfail"})
    found = check_dmarc(SUB, resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"} and found[0].subject == f"domain:{SUB}"


def test_failed_report_authorisation_lookup_is_not_unauthorised(dns_server, resolver_for) -> None:
    server = dns_server(dmarc_zone("v=DMARC1; p=reject; rua=mailto:reports@vendor.test", *VENDOR,
                                   f'{DOMAIN}._report._dmarc.vendor.test. IN TXT "v=DMARC1"'))
    server.fail("_report._dmarc.vendor.test", "servfail")
    found = check_dmarc(DOMAIN, resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].evidence["name"] == f"{DOMAIN}._report._dmarc.vendor.test"
    server.heal()
    assert check_dmarc(DOMAIN, resolver=resolver_for(server, 0.3)).findings == []
