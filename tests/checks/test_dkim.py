"""DKIM keys per selector: every DKIM-* id, positive and negative."""

from __future__ import annotations

import pytest

from checks.dns_auth.dkim import DkimKeyError, check_dkim, parse_dkim_key
from tests.checks.conftest import DOMAIN, ed25519_public, ids, rsa_public, txt_chunks, zone


def key_zone(selector: str, record: str) -> str:
    return zone(f"{selector}._domainkey IN TXT {txt_chunks(record)}")


@pytest.mark.parametrize(("record", "expected"), [
    (lambda: f"v=DKIM1; k=rsa; p={rsa_public(2048)}", set()),
    (lambda: f"v=DKIM1; k=ed25519; p={ed25519_public()}", set()),
    (lambda: f"v=DKIM1; k=rsa; p={rsa_public(1024)}", {"DKIM-KEY-SHORT"}),
    (lambda: f"v=DKIM1; k=rsa; p={rsa_public(512)}", {"DKIM-KEY-WEAK"}),
    (lambda: "v=DKIM1; k=rsa; p=", {"DKIM-KEY-REVOKED"}),
    (lambda: f"v=DKIM1; k=rsa; t=y; p={rsa_public(2048)}", {"DKIM-TEST-MODE"}),
    (lambda: f"v=DKIM1; t=s:y; p={rsa_public(2048)}", {"DKIM-TEST-MODE"}),
    (lambda: f"v=DKIM1; t=s; p={rsa_public(2048)}", set()),
])
def test_key_records(serve, record, expected: set[str]) -> None:
    result = check_dkim(DOMAIN, ["s1"], resolver=serve(key_zone("s1", record())))
    assert ids(result.findings) == expected
    assert result.record["s1"] is not None


def test_missing_selector(serve) -> None:
    r = serve(key_zone("s1", f"v=DKIM1; p={rsa_public(2048)}"))
    result = check_dkim(DOMAIN, ["s1", "s2"], resolver=r)
    assert [(f.rule_id, f.subject) for f in result.findings] == [("DKIM-KEY-MISSING", f"dkim:s2._domainkey.{DOMAIN}")]
    assert result.record["s2"] is None and result.record["s1"]["bits"] == 2048


def test_record_without_p_tag_is_reported_as_missing_key(serve) -> None:
    result = check_dkim(DOMAIN, ["s1"], resolver=serve(key_zone("s1", "v=DKIM1; k=rsa; MIIBIjAN")))
    assert ids(result.findings) == {"DKIM-KEY-MISSING"}
    assert "no p= tag" in result.findings[0].detail


def test_parse_on_strings() -> None:
    key = parse_dkim_key(f"v=DKIM1; k=rsa; p={rsa_public(1024)}")
    assert (key.key_type, key.bits, key.revoked, key.testing) == ("rsa", 1024, False, False)
    assert parse_dkim_key(f"k=ed25519; p={ed25519_public()}").bits == 256
    with pytest.raises(DkimKeyError, match="base64"):
        parse_dkim_key("v=DKIM1; p=###")
    with pytest.raises(DkimKeyError, match="32 bytes"):
        parse_dkim_key("v=DKIM1; k=ed25519; p=AAAA")


# --- each selector on its own answer; SHA-1-only keys; dangling CNAMEs ---------------------------

def test_a_failing_selector_does_not_taint_one_that_answered(dns_server, resolver_for) -> None:
    key = txt_chunks("v=DKIM1; k=rsa; p=" + rsa_public(2048))
    server = dns_server(zone(f"s1._domainkey IN TXT {key}", f"s2._domainkey IN TXT {key}"))
    server.fail(f"s1._domainkey.{DOMAIN}", "timeout")
    result = check_dkim(DOMAIN, ["s1", "s2"], resolver=resolver_for(server, 0.3))
    assert [(f.rule_id, f.subject) for f in result.findings] == [
        ("DNS-LOOKUP-FAILED", f"dkim:s1._domainkey.{DOMAIN}")]
    assert result.findings[0].evidence == {"record": "dkim", "name": f"s1._domainkey.{DOMAIN}", "rdtype": "TXT",
                                           "error": "timeout"}
    assert result.record["s2"]["bits"] == 2048
    server.heal()
    assert check_dkim(DOMAIN, ["s1", "s2"], resolver=resolver_for(server, 0.3)).findings == []


@pytest.mark.parametrize(("h", "expected"), [("sha1", {"DKIM-KEY-SHA1"}), ("sha256", set()),
                                              ("sha1:sha256", set())])
def test_sha1_only_keys(serve, h: str, expected: set[str]) -> None:
    r = serve(zone(f"s1._domainkey IN TXT {txt_chunks(f'v=DKIM1; h={h}; k=rsa; p=' + rsa_public(2048))}"))
    assert ids(check_dkim(DOMAIN, ["s1"], resolver=r).findings) == expected


def test_selector_cname_to_a_name_that_does_not_exist_is_dangling(serve) -> None:
    r = serve(zone("s1._domainkey IN CNAME s1.dkim.gone-vendor.test."))
    found = check_dkim(DOMAIN, ["s1"], resolver=r).findings
    assert ids(found) == {"DKIM-SELECTOR-DANGLING"}
    assert found[0].evidence == {"target": "s1.dkim.gone-vendor.test"} and "s1.dkim.gone-vendor.test" in found[0].detail
    fixed = serve(zone("s1._domainkey IN CNAME s1.dkim.vendor.test.",
                       f"s1.dkim.vendor.test. IN TXT {txt_chunks('v=DKIM1; k=rsa; p=' + rsa_public(2048))}"))
    assert check_dkim(DOMAIN, ["s1"], resolver=fixed).findings == []
    # a plain absent selector (no CNAME) stays DKIM-KEY-MISSING
    assert ids(check_dkim(DOMAIN, ["s9"], resolver=fixed).findings) == {"DKIM-KEY-MISSING"}
