"""The whole audit of a domain and of an IP, and its serialised form."""

from __future__ import annotations

import json

from checks.blocklists import parse_blocklists
from checks.domain_audit import DomainAudit, audit_domain, audit_ip
from tests.checks.conftest import DOMAIN, SENDER_IP, ids, rsa_public, txt_chunks, zone
from tests.checks.test_dnssec import signed_records

LISTS = """
2.0.0.127.bl.test. IN A 127.0.0.2
66.2.0.192.bl.test. IN A 127.0.0.2
test.dbl.test. IN A 127.0.0.2
"""


def full_zone(*extra: str) -> str:
    return zone(f"s1._domainkey IN TXT {txt_chunks('v=DKIM1; k=rsa; p=' + rsa_public(2048))}", LISTS, *extra)


def policy(domain: str) -> str:
    return f"version: STSv1\nmode: enforce\nmx: mail.{domain}\nmax_age: 604800\n"


def test_well_configured_domain_has_no_findings(serve) -> None:
    r = serve(full_zone(signed_records()))
    audit = audit_domain(DOMAIN, selectors=["s1"], ips=[SENDER_IP], resolver=r,
                         blocklists=parse_blocklists("ip:bl.test,domain:dbl.test"), fetch_policy=policy)
    assert audit.findings == []
    assert "dns_errors" not in audit.records
    assert audit.records["dnssec"] == {"signed": True}
    assert audit.records["dkim"]["s1"]["bits"] == 2048
    assert audit.records["ptr"][SENDER_IP]["confirmed"] == f"mail.{DOMAIN}"
    assert audit.records["spf"]["check_host"] == {SENDER_IP: "pass"}
    assert [(b["zone"], b["target"], b["status"]) for b in audit.blocklists] == [
        ("bl.test", SENDER_IP, "clean"), ("dbl.test", DOMAIN, "clean")]


def test_badly_configured_domain_is_blocked_with_ids(serve) -> None:
    r = serve(zone("66.2.0.192.in-addr.arpa. IN PTR nowhere.example.test.", f"{DOMAIN}.dbl.test. IN A 127.0.0.2",
                   LISTS, good=False))
    audit = audit_domain(DOMAIN, selectors=["s1"], ips=["192.0.2.66"], resolver=r,
                         blocklists=parse_blocklists("ip:bl.test,domain:dbl.test"))
    assert audit.blocked
    assert {"SPF-MISSING", "DMARC-MISSING", "DKIM-KEY-MISSING", "PTR-NOT-CONFIRMED", "MX-MISSING",
            "MTA-STS-MISSING", "TLSRPT-MISSING", "BIMI-MISSING", "DNSSEC-UNSIGNED", "BL-IP-LISTED",
            "BL-DOMAIN-LISTED"} <= ids(audit.findings)
    severities = [f.severity for f in audit.findings]
    assert severities == sorted(severities, key=["block", "warn", "info"].index)


def test_round_trip_through_json(serve) -> None:
    r = serve(full_zone())
    audit = audit_domain(DOMAIN, selectors=["s1"], ips=[SENDER_IP], resolver=r, blocklists=[], fetch_policy=policy)
    again = DomainAudit.from_dict(json.loads(json.dumps(audit.to_dict())))
    assert again == audit


def test_audit_ip(serve) -> None:
    r = serve(full_zone())
    audit = audit_ip("192.0.2.66", resolver=r, blocklists=parse_blocklists("ip:bl.test,domain:dbl.test"))
    assert audit.kind == "ip" and audit.blocked
    assert ids(audit.findings) == {"PTR-MISSING", "BL-IP-LISTED"}
    clean = audit_ip(SENDER_IP, resolver=r, blocklists=parse_blocklists("ip:bl.test"))
    assert clean.findings == [] and clean.records["ptr"][SENDER_IP]["confirmed"] == f"mail.{DOMAIN}"


def test_a_domain_that_never_answers_gives_lookup_failures_not_absences(serve) -> None:
    r = serve(zone(), drop={DOMAIN}, timeout=0.2)
    audit = audit_domain(DOMAIN, selectors=["s1"], ips=[SENDER_IP], resolver=r, blocklists=[])
    assert ids(audit.findings) == {"DNS-LOOKUP-FAILED"}  # no *-MISSING, no permerror, no block
    assert not audit.blocked
    records = {f.evidence["record"] for f in audit.findings}
    assert records == {"spf", "dmarc", "dkim", "mx", "ptr", "mta-sts", "tlsrpt", "bimi", "dnssec"}
    dkim = next(f for f in audit.findings if f.evidence["record"] == "dkim")
    assert dkim.subject == f"dkim:s1._domainkey.{DOMAIN}" and dkim.evidence["error"] == "timeout"
    assert {"spf", "dmarc", "dkim", "mx", "ptr", "mta_sts", "tlsrpt", "bimi", "dnssec"} == set(audit.records["dns_errors"])


def test_servfail_on_the_domain_is_not_spf_or_dmarc_missing(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={DOMAIN: "servfail"})
    audit = audit_domain(DOMAIN, ips=[SENDER_IP], resolver=resolver_for(server, 0.3), blocklists=[])
    assert ids(audit.findings) == {"DNS-LOOKUP-FAILED"}
    assert all(f.evidence["error"] == "SERVFAIL" for f in audit.findings)
    server.heal()
    healed = audit_domain(DOMAIN, ips=[SENDER_IP], resolver=resolver_for(server, 0.3), blocklists=[],
                          fetch_policy=policy)
    assert ids(healed.findings) == {"DNSSEC-UNSIGNED"}
