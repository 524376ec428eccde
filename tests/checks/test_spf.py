"""SPF: every SPF-* id, positive and negative, against zones on the loopback server."""

from __future__ import annotations

import pytest

from checks.dns_auth.spf import check_host, check_spf, parse_spf_terms, policy_findings
from tests.checks.conftest import DOMAIN, SENDER_IP, ids, zone


def spf_zone(record: str, *extra: str) -> str:
    return zone(*extra, good=False) + f'@ IN TXT "{record}"\n'


def test_good_record_has_no_findings_and_authorises_the_sending_ip(serve) -> None:
    r = serve(zone())
    result = check_spf(DOMAIN, resolver=r, ips=[SENDER_IP])
    assert result.findings == []
    assert result.record["check_host"] == {SENDER_IP: "pass"}
    assert result.record["dns_lookups"] == 0


def test_missing_record(serve) -> None:
    assert ids(check_spf(DOMAIN, resolver=serve(zone(good=False))).findings) == {"SPF-MISSING"}


def test_unrelated_txt_is_not_spf(serve) -> None:
    r = serve(zone('@ IN TXT "google-site-verification=abc"', good=False))
    assert ids(check_spf(DOMAIN, resolver=r).findings) == {"SPF-MISSING"}


def test_two_records_are_a_permerror(serve) -> None:
    r = serve(spf_zone("v=spf1 -all", '@ IN TXT "v=spf1 ~all"'))
    assert ids(check_spf(DOMAIN, resolver=r).findings) == {"SPF-MULTIPLE"}


def test_unknown_mechanism_is_a_syntax_error(serve) -> None:
    r = serve(spf_zone("v=spf1 ip4:192.0.2.10 foo:bar -all"))
    assert "SPF-SYNTAX" in ids(check_spf(DOMAIN, resolver=r).findings)


def test_include_of_a_name_without_spf_is_a_permerror(serve) -> None:
    r = serve(spf_zone("v=spf1 include:nothing.example.test -all"))
    assert "SPF-SYNTAX" in ids(check_spf(DOMAIN, resolver=r).findings)


def test_eleven_lookups_are_too_many(serve) -> None:
    hosts = [f"h{i}" for i in range(11)]
    lines = [f"{h} IN A 192.0.2.{i + 100}" for i, h in enumerate(hosts)]
    r = serve(spf_zone("v=spf1 " + " ".join(f"a:{h}.{DOMAIN}" for h in hosts) + " -all", *lines))
    result = check_spf(DOMAIN, resolver=r)
    assert "SPF-TOO-MANY-LOOKUPS" in ids(result.findings)


def test_ten_lookups_through_includes_are_allowed(serve) -> None:
    hosts = [f"h{i}" for i in range(9)]
    lines = [f"{h} IN A 192.0.2.{i + 100}" for i, h in enumerate(hosts)]
    lines.append(f'inc IN TXT "v=spf1 {" ".join(f"a:{h}.{DOMAIN}" for h in hosts)} -all"')
    result = check_spf(DOMAIN, resolver=serve(spf_zone(f"v=spf1 include:inc.{DOMAIN} -all", *lines)))
    assert result.record["dns_lookups"] == 10
    assert "SPF-TOO-MANY-LOOKUPS" not in ids(result.findings)


def test_three_void_lookups(serve) -> None:
    r = serve(spf_zone(f"v=spf1 a:v1.{DOMAIN} a:v2.{DOMAIN} a:v3.{DOMAIN} -all"))
    assert "SPF-VOID-LOOKUPS" in ids(check_spf(DOMAIN, resolver=r).findings)


def test_two_void_lookups_are_tolerated(serve) -> None:
    r = serve(spf_zone(f"v=spf1 a:v1.{DOMAIN} a:v2.{DOMAIN} ip4:192.0.2.10 -all"))
    result = check_spf(DOMAIN, resolver=r)
    assert result.record["void_dns_lookups"] == 2
    assert "SPF-VOID-LOOKUPS" not in ids(result.findings)


@pytest.mark.parametrize(("record", "expected"), [
    ("v=spf1 +all", {"SPF-PASS-ALL"}),
    ("v=spf1 all", {"SPF-PASS-ALL"}),
    ("v=spf1 ip4:192.0.2.10 ?all", {"SPF-NEUTRAL-ALL"}),
    ("v=spf1 ip4:192.0.2.10", {"SPF-NEUTRAL-ALL"}),
    ("v=spf1 ip4:192.0.2.10 ptr -all", {"SPF-PTR"}),
    ("v=spf1 ip4:192.0.2.10 ~all", set()),
    ("v=spf1 ip4:192.0.2.10 -all", set()),
    ("v=spf1 redirect=_spf.example.test", set()),
])
def test_policy_from_the_record_text(record: str, expected: set[str]) -> None:
    assert ids(policy_findings(record, DOMAIN)) == expected


def test_parse_terms() -> None:
    terms = parse_spf_terms("v=spf1 ip4:192.0.2.1 -ptr:x.test ~all")
    assert terms["all"] == "softfail" and terms["ptr"] is True and terms["redirect"] is None


def test_pass_all_served(serve) -> None:
    assert ids(check_spf(DOMAIN, resolver=serve(spf_zone("v=spf1 +all"))).findings) == {"SPF-PASS-ALL"}


def test_ip_not_authorised(serve) -> None:
    result = check_spf(DOMAIN, resolver=serve(zone()), ips=[SENDER_IP, "198.51.100.7"])
    bad = [f for f in result.findings if f.rule_id == "SPF-IP-NOT-AUTHORISED"]
    assert [f.subject for f in bad] == ["ip:198.51.100.7"]
    assert bad[0].evidence["result"] == "fail"


def test_check_host_follows_includes_and_mx_on_our_resolver(serve) -> None:
    r = serve(spf_zone(f"v=spf1 include:_spf.{DOMAIN} -all",
                       f'_spf IN TXT "v=spf1 mx:{DOMAIN} -all"', f"@ IN MX 10 mx1.{DOMAIN}.", "mx1 IN A 203.0.113.5"))
    assert check_host("203.0.113.5", DOMAIN, resolver=r)[0] == "pass"
    assert check_host("203.0.113.6", DOMAIN, resolver=r)[0] == "fail"


# --- DNS failures are temperrors, not permerrors or absences (RFC 7208 §2.6.6, §5.2) --------------

INC = f"inc.{DOMAIN}"


def _include_zone() -> str:
    return spf_zone(f"v=spf1 include:{INC} -all", f'inc IN TXT "v=spf1 ip4:{SENDER_IP} -all"')


@pytest.mark.parametrize("mode", ["servfail", "timeout", "refused"])
def test_failed_include_is_a_temperror_not_a_permerror(serve, dns_server, resolver_for, mode: str) -> None:
    server = dns_server(_include_zone())
    server.fail(INC, mode)
    result = check_spf(DOMAIN, resolver=resolver_for(server, 0.3), ips=[SENDER_IP])
    assert ids(result.findings) == {"SPF-TEMPERROR", "DNS-LOOKUP-FAILED"}  # no SPF-SYNTAX, no NOT-AUTHORISED
    failed = next(f for f in result.findings if f.rule_id == "DNS-LOOKUP-FAILED")
    assert failed.subject == f"domain:{DOMAIN}"
    assert failed.evidence == {"record": "spf", "name": INC, "rdtype": "TXT",
                               "error": {"servfail": "SERVFAIL", "timeout": "timeout", "refused": "REFUSED"}[mode]}
    assert result.record["check_host"] == {SENDER_IP: "temperror"}
    server.heal()
    healed = check_spf(DOMAIN, resolver=resolver_for(server, 0.3), ips=[SENDER_IP])
    assert healed.findings == [] and healed.record["check_host"] == {SENDER_IP: "pass"}


def test_failed_a_term_seen_by_check_host_is_a_temperror(dns_server, resolver_for) -> None:
    server = dns_server(spf_zone(f"v=spf1 a:host.{DOMAIN} -all", f"host IN A {SENDER_IP}"))
    server.fail(f"host.{DOMAIN}", "servfail")
    result = check_spf(DOMAIN, resolver=resolver_for(server, 0.3), ips=["198.51.100.7"])
    assert ids(result.findings) == {"SPF-TEMPERROR", "DNS-LOOKUP-FAILED"}
    assert {f.evidence.get("name") for f in result.findings if f.rule_id == "DNS-LOOKUP-FAILED"} == {f"host.{DOMAIN}"}
    server.heal()
    result = check_spf(DOMAIN, resolver=resolver_for(server, 0.3), ips=["198.51.100.7"])
    assert ids(result.findings) == {"SPF-IP-NOT-AUTHORISED"}  # a real fail once DNS answers


def test_servfail_on_the_domain_is_not_a_missing_record(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={DOMAIN: "servfail"})
    result = check_spf(DOMAIN, resolver=resolver_for(server, 0.3), ips=[SENDER_IP])
    assert ids(result.findings) == {"DNS-LOOKUP-FAILED"}
    assert result.findings[0].evidence == {"record": "spf", "name": DOMAIN, "rdtype": "TXT", "error": "SERVFAIL"}
    assert result.findings[0].detail.msgid.startswith("{rdtype} lookup of {name} failed")


# --- +all and ?all behind include: and redirect= -------------------------------------------------

def test_pass_all_through_an_include(serve) -> None:
    r = serve(spf_zone(f"v=spf1 include:{INC} -all", 'inc IN TXT "v=spf1 +all"'))
    result = check_spf(DOMAIN, resolver=r, ips=["198.51.100.7"])
    passing = [f for f in result.findings if f.rule_id == "SPF-PASS-ALL"]
    assert passing and passing[0].evidence["via"] == [f"include:{INC}"]
    assert result.record["check_host"] == {"198.51.100.7": "pass"}  # check_host agrees: anyone passes


def test_pass_all_through_a_nested_include_and_redirect(serve) -> None:
    r = serve(spf_zone(f"v=spf1 redirect=_spf.{DOMAIN}", f'_spf IN TXT "v=spf1 include:{INC} -all"',
                       'inc IN TXT "v=spf1 all"'))
    passing = [f for f in check_spf(DOMAIN, resolver=r).findings if f.rule_id == "SPF-PASS-ALL"]
    assert passing[0].evidence["via"] == [f"redirect=_spf.{DOMAIN}", f"include:{INC}"]


def test_include_of_a_strict_policy_and_a_minus_include_are_not_pass_all(serve) -> None:
    r = serve(spf_zone(f"v=spf1 include:{INC} -include:bad.{DOMAIN} -all", f'inc IN TXT "v=spf1 ip4:{SENDER_IP} -all"',
                       'bad IN TXT "v=spf1 +all"'))
    assert "SPF-PASS-ALL" not in ids(check_spf(DOMAIN, resolver=r).findings)


@pytest.mark.parametrize(("target", "expected"), [
    ("v=spf1 ip4:192.0.2.10 ?all", {"SPF-NEUTRAL-ALL"}),
    ("v=spf1 ip4:192.0.2.10 +all", {"SPF-PASS-ALL"}),
    ("v=spf1 ip4:192.0.2.10 -all", set()),
])
def test_redirect_target_decides_the_all(serve, target: str, expected: set[str]) -> None:
    r = serve(spf_zone(f"v=spf1 redirect=_spf.{DOMAIN}", f'_spf IN TXT "{target}"'))
    assert ids(check_spf(DOMAIN, resolver=r).findings) == expected


def test_an_include_of_a_name_that_cannot_be_asked_is_a_permerror_not_a_temperror(serve) -> None:
    found = check_spf(DOMAIN, resolver=serve(spf_zone(f"v=spf1 include:{'a' * 64}.{DOMAIN} -all")),
                      ips=[SENDER_IP]).findings
    assert "SPF-SYNTAX" in ids(found) and not {"SPF-TEMPERROR", "DNS-LOOKUP-FAILED"} & ids(found)
