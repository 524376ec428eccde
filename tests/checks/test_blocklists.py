"""Blocklists: every BL-* id, positive and negative, on DNSBL zones served on loopback.

The lists: a working one, a broken one (does not list 127.0.0.2), one listing everything
(lists 127.0.0.1), a Spamhaus-style one with return codes and error answers, a list that
never answers (dropped), a minor (warn) list, and domain lists.
"""

from __future__ import annotations

import textwrap

import dns.resolver
import pytest

from checks.blocklists import (
    Blocklist,
    BlocklistConfigError,
    SelfTests,
    check_domain_rows,
    check_domains,
    check_ip,
    decode,
    parse_blocklists,
    query_lists,
    row_finding,
    row_findings,
)
from tests.checks.conftest import SENDER_IP6, ids

LISTED = "192.0.2.66"
CLEAN = "192.0.2.10"
PBL_ONLY = "192.0.2.77"
SPAMHAUS_ERROR = "192.0.2.88"
V6_NIBBLES = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
# RFC 5782 §5 IPv6 test points ::FFFF:7F00:2 (must be listed) and ::FFFF:7F00:1 (must not)
V6_TEST = "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
V6_TEST_NOT = "1" + V6_TEST[1:]

LISTS = textwrap.dedent(f"""\
    2.0.0.127.bl.test. IN A 127.0.0.2
    2.0.0.127.bl.test. IN TXT "RFC 5782 test entry"
    66.2.0.192.bl.test. IN A 127.0.0.2
    66.2.0.192.bl.test. IN TXT "Listed for spam, see https://bl.test/lookup"
    {V6_NIBBLES}.bl.test. IN A 127.0.0.2
    {V6_TEST}.bl.test. IN A 127.0.0.2
    88.2.0.192.bl.test. IN A 127.255.255.254
    2.0.0.127.v4only.test. IN A 127.0.0.2
    66.2.0.192.v4only.test. IN A 127.0.0.2
    {V6_NIBBLES}.v4only.test. IN A 127.0.0.2
    10.2.0.192.broken.test. IN A 127.0.0.2
    *.everything.test. IN A 127.0.0.2
    2.0.0.127.minor.test. IN A 127.0.0.2
    66.2.0.192.minor.test. IN A 127.0.0.2
    2.0.0.127.zen.spamhaus.org. IN A 127.0.0.2
    66.2.0.192.zen.spamhaus.org. IN A 127.0.0.4
    66.2.0.192.zen.spamhaus.org. IN A 127.0.0.10
    66.2.0.192.zen.spamhaus.org. IN TXT "https://check.spamhaus.org/query/ip/192.0.2.66"
    77.2.0.192.zen.spamhaus.org. IN A 127.0.0.10
    88.2.0.192.zen.spamhaus.org. IN A 127.255.255.254
    2.0.0.127.outside.test. IN A 127.0.0.2
    10.2.0.192.outside.test. IN A 203.0.113.1
    test.dbl.test. IN A 127.0.0.2
    spam-links.example.dbl.test. IN A 127.0.1.2
    spam-links.example.dbl.test. IN TXT "phishing kit"
    dbltest.com.dbl.spamhaus.org. IN A 127.0.1.2
    bad.example.dbl.spamhaus.org. IN A 127.0.1.4
    shop.example.dbl.spamhaus.org. IN A 127.255.255.252
    test.brokendbl.test. IN A 127.0.0.2
    invalid.brokendbl.test. IN A 127.0.0.2
    """)


@pytest.fixture
def lists_resolver(serve) -> dns.resolver.Resolver:
    # A loopback answer can take a while when the whole suite loads the machine; only the test
    # of a list that never answers needs a short timeout, and it has its own resolver.
    return serve(LISTS, drop={"slow.test"}, timeout=3.0)


@pytest.fixture
def impatient_resolver(serve) -> dns.resolver.Resolver:
    return serve(LISTS, drop={"slow.test"}, timeout=1.0)


def bl(spec: str) -> list[Blocklist]:
    return parse_blocklists(spec)


def test_listed_ip_with_reason(lists_resolver) -> None:
    rows, found = check_ip(LISTED, lists=bl("ip:bl.test"), resolver=lists_resolver)
    assert [(f.rule_id, f.subject) for f in found] == [("BL-IP-LISTED", f"ip:{LISTED}")]
    assert rows[0]["status"] == "listed" and rows[0]["codes"] == ["127.0.0.2 listed"]
    assert rows[0]["reason"] == "Listed for spam, see https://bl.test/lookup"
    assert "Listed for spam" in found[0].detail


def test_clean_ip(lists_resolver) -> None:
    rows, found = check_ip(CLEAN, lists=bl("ip:bl.test"), resolver=lists_resolver)
    assert found == [] and rows[0]["status"] == "clean"


def test_ipv6_is_queried_by_nibbles(lists_resolver) -> None:
    assert Blocklist("ip", "bl.test").query_name(SENDER_IP6) == f"{V6_NIBBLES}.bl.test"
    rows, found = check_ip(SENDER_IP6, lists=bl("ip:bl.test"), resolver=lists_resolver)
    assert ids(found) == {"BL-IP-LISTED"} and rows[0]["status"] == "listed"
    assert check_ip("2001:db8::11", lists=bl("ip:bl.test"), resolver=lists_resolver)[1] == []


def test_ipv6_test_points_are_the_rfc_5782_nibble_names() -> None:
    v6 = Blocklist("ip", "bl.test")
    assert v6.test_entries_for(6) == ("::ffff:7f00:2", "::ffff:7f00:1")
    assert [v6.query_name(t) for t in v6.test_entries_for(6)] == [f"{V6_TEST}.bl.test", f"{V6_TEST_NOT}.bl.test"]
    assert [v6.query_name(t) for t in v6.test_entries] == ["2.0.0.127.bl.test", "1.0.0.127.bl.test"]


def test_ipv6_address_on_an_ipv4_only_list_is_not_clean(lists_resolver) -> None:
    # v4only.test even has an entry under the address's nibbles, but fails the IPv6 self-test
    rows, found = check_ip(SENDER_IP6, lists=bl("ip:v4only.test"), resolver=lists_resolver)
    assert rows[0]["status"] == "uncovered" and "does not cover IPv6" in rows[0]["codes"][0]
    assert [(f.rule_id, f.severity, f.subject) for f in found] == [("BL-QUERY-ERROR", "info", "blocklist:v4only.test")]
    assert "::FFFF:7F00:2" in found[0].detail and SENDER_IP6 in found[0].detail
    assert ids(check_ip(LISTED, lists=bl("ip:v4only.test"), resolver=lists_resolver)[1]) == {"BL-IP-LISTED"}


def test_ipv6_self_test_catches_a_list_answering_everything(lists_resolver) -> None:
    rows, found = check_ip("2001:db8::11", lists=bl("ip:everything.test"), resolver=lists_resolver)
    assert rows[0]["status"] == "error" and "::ffff:7f00:1 is listed" in rows[0]["codes"][0]
    assert ids(found) == {"BL-QUERY-ERROR"}


def test_one_query_error_per_list_naming_every_ip(lists_resolver) -> None:
    ips = [CLEAN, LISTED, "192.0.2.11"]
    lists = bl("ip:broken.test,ip:everything.test,ip:bl.test")
    rows = query_lists(((b, ip) for ip in ips for b in lists), resolver=lists_resolver)
    assert len(rows) == 9
    # the domain audit maps row_finding over the rows: one finding per list all the same
    found = [f for f in map(row_finding, rows) if f]
    assert row_findings(rows) == found
    errors = [f for f in found if f.rule_id == "BL-QUERY-ERROR"]
    assert sorted(f.subject for f in errors) == ["blocklist:broken.test", "blocklist:everything.test"]
    for f in errors:
        assert f.evidence["targets"] == ips and all(ip in f.detail for ip in ips)
        assert f.detail.startswith(f"{f.evidence['zone']} could not be queried for ")
    assert [f.rule_id for f in found if f.rule_id != "BL-QUERY-ERROR"] == ["BL-IP-LISTED"]


def test_error_codes_are_worded_by_their_own_list(lists_resolver) -> None:
    rows, found = check_ip(SPAMHAUS_ERROR, lists=bl("ip:bl.test"), resolver=lists_resolver)
    assert rows[0]["status"] == "error" and ids(found) == {"BL-QUERY-ERROR"}
    assert "Spamhaus" not in found[0].detail and "public" not in found[0].detail
    assert "127.255.255.254 error code of the list" in found[0].detail


def test_minor_list_gives_a_warning(lists_resolver) -> None:
    found = check_ip(LISTED, lists=bl("ip:minor.test=warn"), resolver=lists_resolver)[1]
    assert [(f.rule_id, f.severity) for f in found] == [("BL-IP-LISTED-MINOR", "warn")]
    assert check_ip(CLEAN, lists=bl("ip:minor.test=warn"), resolver=lists_resolver)[1] == []


def test_spamhaus_codes_are_decoded(lists_resolver) -> None:
    rows, found = check_ip(LISTED, lists=bl("ip:zen.spamhaus.org"), resolver=lists_resolver)
    assert rows[0]["codes"] == ["127.0.0.4 XBL", "127.0.0.10 PBL ISP"]
    assert ids(found) == {"BL-IP-LISTED"}


def test_pbl_only_listing_is_minor(lists_resolver) -> None:
    found = check_ip(PBL_ONLY, lists=bl("ip:zen.spamhaus.org"), resolver=lists_resolver)[1]
    assert ids(found) == {"BL-IP-LISTED-MINOR"}


def test_spamhaus_error_answer_is_an_error_not_a_listing(lists_resolver) -> None:
    rows, found = check_ip(SPAMHAUS_ERROR, lists=bl("ip:zen.spamhaus.org"), resolver=lists_resolver)
    assert ids(found) == {"BL-QUERY-ERROR"}
    assert rows[0]["status"] == "error" and "Spamhaus: query through a public/open resolver" in rows[0]["codes"][0]


def test_list_that_fails_its_self_test_is_an_error_even_for_a_listed_ip(lists_resolver) -> None:
    rows, found = check_ip(CLEAN, lists=bl("ip:broken.test"), resolver=lists_resolver)
    assert ids(found) == {"BL-QUERY-ERROR"}
    assert "127.0.0.2 is not listed" in found[0].detail and rows[0]["status"] == "error"


def test_list_that_lists_everything_fails_its_self_test(lists_resolver) -> None:
    found = check_ip(CLEAN, lists=bl("ip:everything.test"), resolver=lists_resolver)[1]
    assert ids(found) == {"BL-QUERY-ERROR"} and "127.0.0.1 is listed" in found[0].detail


def test_answer_outside_loopback_is_an_error(lists_resolver) -> None:
    found = check_ip(CLEAN, lists=bl("ip:outside.test"), resolver=lists_resolver)[1]
    assert ids(found) == {"BL-QUERY-ERROR"} and "outside 127.0.0.0/8" in found[0].detail


def test_timeout_is_an_error(impatient_resolver) -> None:
    rows, found = check_ip(LISTED, lists=bl("ip:slow.test,ip:bl.test"), resolver=impatient_resolver)
    assert [(r["zone"], r["status"]) for r in rows] == [("slow.test", "error"), ("bl.test", "listed")]
    assert ids(found) == {"BL-QUERY-ERROR", "BL-IP-LISTED"}
    assert "no answer within" in rows[0]["codes"][0]


def test_sending_domain_on_a_domain_list(lists_resolver) -> None:
    rows, found = check_domain_rows(["spam-links.example", "fine.example"], lists=bl("domain:dbl.test"),
                                    resolver=lists_resolver, rule_id="BL-DOMAIN-LISTED")
    assert [(f.rule_id, f.subject) for f in found] == [("BL-DOMAIN-LISTED", "domain:spam-links.example")]
    assert {r["target"]: r["status"] for r in rows} == {"spam-links.example": "listed", "fine.example": "clean"}


def test_link_domains(lists_resolver) -> None:
    found = check_domains(["bad.example", "good.example"], lists=bl("domain:dbl.spamhaus.org"),
                          resolver=lists_resolver)
    assert [(f.rule_id, f.subject) for f in found] == [("BL-LINK-DOMAIN-LISTED", "domain:bad.example")]
    assert "phish domain" in found[0].detail
    assert check_domains(["good.example"], lists=bl("domain:dbl.spamhaus.org"), resolver=lists_resolver) == []


def test_domain_list_error_code(lists_resolver) -> None:
    found = check_domains(["shop.example"], lists=bl("domain:dbl.spamhaus.org"), resolver=lists_resolver)
    assert ids(found) == {"BL-QUERY-ERROR"} and "typo" in found[0].detail


def test_domain_list_failing_self_test(lists_resolver) -> None:
    found = check_domains(["good.example"], lists=bl("domain:brokendbl.test"), resolver=lists_resolver)
    assert ids(found) == {"BL-QUERY-ERROR"} and "invalid is listed" in found[0].detail


def test_domain_lists_ignore_ips_and_ip_lists_ignore_domains(lists_resolver) -> None:
    both = bl("ip:bl.test,domain:dbl.test")
    assert [r["zone"] for r in check_ip(LISTED, lists=both, resolver=lists_resolver)[0]] == ["bl.test"]
    assert [r["zone"] for r in check_domain_rows(["x.example"], lists=both, resolver=lists_resolver)[0]] == ["dbl.test"]


class CountingResolver(dns.resolver.Resolver):
    """A real resolver that counts the names it is asked for."""

    def __init__(self, base: dns.resolver.Resolver) -> None:
        super().__init__(configure=False)
        self.nameservers, self.timeout, self.lifetime = base.nameservers, base.timeout, base.lifetime
        self.asked: list[str] = []

    def resolve(self, qname, rdtype="A", *args, **kwargs):  # type: ignore[override]
        self.asked.append(f"{qname}/{rdtype}")
        return super().resolve(qname, rdtype, *args, **kwargs)


def test_self_test_runs_once_per_list_within_an_audit(lists_resolver) -> None:
    r = CountingResolver(lists_resolver)
    tests = SelfTests()
    for ip in (LISTED, CLEAN, "192.0.2.11"):
        check_ip(ip, lists=bl("ip:bl.test"), resolver=r, self_tests=tests)
    assert r.asked.count("2.0.0.127.bl.test/A") == 1
    assert r.asked.count("1.0.0.127.bl.test/A") == 1


def test_parse_blocklists_defaults_and_forms(tmp_path) -> None:
    defaults = parse_blocklists(None)
    assert Blocklist("ip", "zen.spamhaus.org", "block") in defaults
    assert Blocklist("ip", "bl.spamcop.net", "warn") in defaults
    assert {b.zone for b in defaults if b.kind == "domain"} == {"dbl.spamhaus.org", "multi.surbl.org",
                                                                "multi.uribl.com"}
    assert parse_blocklists("ip:BL.test.=warn, domain:dbl.test") == [Blocklist("ip", "bl.test", "warn"),
                                                                     Blocklist("domain", "dbl.test", "block")]
    f = tmp_path / "lists.txt"
    f.write_text("# ours\nip:bl.test=block\n\ndomain:dbl.test=warn  # links\n")
    assert parse_blocklists(str(f)) == [Blocklist("ip", "bl.test"), Blocklist("domain", "dbl.test", "warn")]
    relative = tmp_path / "lists"
    relative.write_text("ip:bl.test\n")
    assert parse_blocklists(str(relative)) == [Blocklist("ip", "bl.test")]


def test_self_test_entries() -> None:
    assert Blocklist("ip", "zen.spamhaus.org").test_entries == ("127.0.0.2", "127.0.0.1")
    assert Blocklist("domain", "dbl.spamhaus.org").test_entries == ("dbltest.com", "invalid")
    assert Blocklist("domain", "multi.uribl.com").test_entries == ("test.uribl.com", "invalid")
    assert Blocklist("domain", "dbl.test").test_entries == ("test", "invalid")


@pytest.mark.parametrize("bad", ["bl.test", "url:bl.test", "ip:bl.test=fatal", "ip:", "/nonexistent/lists.txt"])
def test_parse_blocklists_rejects(bad: str) -> None:
    with pytest.raises(BlocklistConfigError):
        parse_blocklists(bad)


def test_decode_on_strings() -> None:
    assert decode("multi.surbl.org", ["127.0.0.24"]) == (["127.0.0.24 PH phishing+MW malware"], [])
    assert decode("multi.uribl.com", ["127.0.0.1"])[1] == [
        "127.0.0.1 URIBL: query refused (a public or high-volume resolver; register for access)"]
    assert decode("multi.surbl.org", ["127.0.0.1"])[1][0].startswith("127.0.0.1 SURBL: query blocked")
    assert decode("dbl.spamhaus.org", ["127.0.1.102"])[0] == ["127.0.1.102 abused legit spam"]
    assert decode("zen.spamhaus.org", ["127.255.255.255"])[1] == ["127.255.255.255 Spamhaus: over the free-use quota"]
    # Spamhaus's words only for Spamhaus: another list's 127.255.255.x is its own error code
    assert decode("bl.test", ["127.255.255.254"]) == (
        [], ["127.255.255.254 error code of the list, not a listing (see the list's documentation)"])
    assert decode("bl.test", ["127.0.0.1"]) == (["127.0.0.1 listed"], [])


def test_every_detail_is_a_message_with_a_russian_translation(lists_resolver) -> None:
    from pathlib import Path

    from babel.messages.pofile import read_po

    import checks

    po = Path(checks.__file__).parent / "translations/ru/LC_MESSAGES/checks.po"
    with po.open("rb") as fh:
        russian = {m.id: m.string for m in read_po(fh) if m.id}
    rows = query_lists([(b, ip) for b in bl("ip:bl.test,ip:broken.test,ip:v4only.test")
                        for ip in (LISTED, CLEAN, SENDER_IP6)], resolver=lists_resolver)
    found = row_findings(rows) + check_domains(["spam-links.example"], lists=bl("domain:dbl.test"),
                                               resolver=lists_resolver)
    assert len({f.detail.msgid for f in found}) == 4  # listed with and without reason, error, uncovered
    for f in found:
        assert russian.get(f.detail.msgid), f.detail.msgid
        assert russian[f.detail.msgid].format(**f.detail.params)


def test_the_domain_audit_reports_one_query_error_per_list(lists_resolver) -> None:
    from checks.domain_audit import audit_domain

    ips = (CLEAN, LISTED, "192.0.2.11", SENDER_IP6)
    audit = audit_domain("fine.example", ips=ips, resolver=lists_resolver,
                         blocklists=bl("ip:broken.test,ip:everything.test,ip:v4only.test,ip:bl.test"))
    errors = sorted((f.subject, f.severity, tuple(f.evidence["targets"])) for f in audit.findings
                    if f.rule_id == "BL-QUERY-ERROR")
    # broken.test fails the IPv4 self-test and lacks the IPv6 test point: two findings, not four
    assert errors == [("blocklist:broken.test", "info", (SENDER_IP6,)), ("blocklist:broken.test", "warn", ips[:3]),
                      ("blocklist:everything.test", "warn", ips), ("blocklist:v4only.test", "info", (SENDER_IP6,))]
    assert len(audit.blocklists) == 16
    assert {r["status"] for r in audit.blocklists if r["target"] == SENDER_IP6 and r["zone"] == "v4only.test"} == {
        "uncovered"}


def test_a_row_without_a_group_is_told_on_its_own() -> None:
    # rows stored before findings were grouped per list (no "group" key) still give their finding
    row = {"zone": "bl.test", "kind": "ip", "target": CLEAN, "status": "error", "codes": ["no answer within 2 s"],
           "reason": "", "severity": "block"}
    f = row_finding(row)
    assert f is not None and f.evidence["targets"] == [CLEAN] and "no answer within 2 s" in f.detail
    assert row_finding({**row, "group": None}) is None


def test_ipv6_self_test_runs_once_per_list_beside_the_ipv4_one(lists_resolver) -> None:
    r = CountingResolver(lists_resolver)
    tests = SelfTests()
    for ip in (SENDER_IP6, "2001:db8::11", CLEAN):
        check_ip(ip, lists=bl("ip:bl.test"), resolver=r, self_tests=tests)
    assert r.asked.count(f"{V6_TEST}.bl.test/A") == 1 and r.asked.count(f"{V6_TEST_NOT}.bl.test/A") == 1
    assert r.asked.count("2.0.0.127.bl.test/A") == 1
