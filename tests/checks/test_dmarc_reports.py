"""Report files are unpacked and parsed as receivers send them; hostile ones are refused with a reason."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import UTC, datetime

import pytest

from checks.dmarc_reports import ReportRefused, parse_report
from checks.dmarc_sources import Source, SourceTotals, classify, source_findings, tls_findings
from tests.auditor.dmarc.samples import (
    BEGIN,
    Row,
    as_email,
    google,
    gz,
    mailru,
    microsoft,
    tls_report,
    yahoo,
    yandex,
    zipped,
)

NOW = datetime(2026, 11, 30, tzinfo=UTC)
ROWS = [Row("192.0.2.10", 10, "pass", "pass", (("shop.example", "s1", "pass"),), (("shop.example", "pass"),)),
        Row("203.0.113.5", 4, "fail", "fail", (("evil.example", "x", "pass"),), (("evil.example", "fail"),))]


@pytest.mark.parametrize("writer", [google, yahoo, mailru, yandex, microsoft])
@pytest.mark.parametrize("container", ["xml", "gz", "zip", "eml"])
def test_every_receiver_in_every_container_parses_to_the_same_records(writer, container):
    xml = writer(ROWS)
    data = {"xml": xml, "gz": gz(xml), "zip": zipped(xml), "eml": as_email(gz(xml), "r.xml.gz")}[container]
    r = parse_report(data, now=NOW)
    assert r.kind == "aggregate" and r.domain == "shop.example"
    got = [(x.source_ip, x.count, x.spf_aligned, x.dkim_aligned, x.dmarc_pass, x.selectors) for x in r.records]
    # A DKIM selector of another domain (the spoofer's own signature) is not one of ours.
    assert got == [("192.0.2.10", 10, True, True, True, ("s1",)), ("203.0.113.5", 4, False, False, False, ())]
    assert r.begin == datetime.fromtimestamp(BEGIN, tz=UTC)


def test_tls_report_as_json_gzip_and_email():
    for data in (tls_report(), gz(tls_report()), as_email(gz(tls_report()), "google.com!shop.example.json.gz",
                                                          "application/tlsrpt+gzip")):
        r = parse_report(data, now=NOW)
        assert r.kind == "smtp_tls" and r.domain == "shop.example"
        assert [(p.policy_type, p.successful, p.failed) for p in r.policies] == [("sts", 120, 3)]
        assert r.policies[0].failure_details[0]["result_type"] == "certificate-expired"


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<feedback><report_metadata><org_name>&lol3;</org_name></report_metadata></feedback>"""


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("r.xml", b"<feedback>" + b" " * (60 * 1024 * 1024) + b"</feedback>")
    return buf.getvalue()


@pytest.mark.parametrize(("data", "reason"), [
    (BOMB, "DTD or entities"),
    (gz(BOMB), "DTD or entities"),
    (b"<feedback>" + b"<a>" * 40 + b"</a>" * 40 + b"</feedback>", "nested deeper"),
    (b'{"a":' * 50 + b"1" + b"}" * 50, "nested deeper"),
    (gzip.compress(b"<feedback>" + b" " * (30 * 1024 * 1024) + b"</feedback>"), "compression bomb"),
    (_zip_bomb(), "compression bomb"),
    (google(ROWS, begin=BEGIN, end=BEGIN - 10), "before it begins"),
    (google(ROWS, begin=BEGIN + 40 * 86400, end=BEGIN + 40 * 86400 + 3600), "in the future"),
    (google(ROWS, begin=BEGIN - 30 * 86400, end=BEGIN), "exceeds 7"),
    (google(ROWS, begin=0, end=3600), "before DMARC existed"),
    (google(ROWS).replace(f"<begin>{BEGIN}</begin>".encode(), b"<begin>yesterday</begin>"), "not a Unix time"),
    (b"%PDF-1.7 not a report", "not a report"),
    (b"<html><body>hi</body></html>", "no <feedback> root"),
    (as_email(b"hello", "notes.txt", "text/plain"), "no report attachment"),
    (b"\x1f\x8b\x08\x00garbage", "gzip"),
    (tls_report().replace(b'"end-datetime": "2026-11-28T23:59:59Z"', b'"end-datetime": "2026-11-27T00:00:00Z"'),
     "before it begins"),
    (tls_report().replace(b'"start-datetime": "2026-11-28T00:00:00Z"', b'"start-datetime": "soon"'),
     "not an RFC 3339 time"),
    (b"A" * (26 * 1024 * 1024), "byte cap"),
])
def test_hostile_or_wrong_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(ReportRefused, match=reason):
        parse_report(data, now=NOW)


def t(ip, messages, spf=0, dkim=0, dmarc=0, spf_pass=0, fwd=0, ptr_type=None):
    return SourceTotals(ip, messages, spf, dkim, dmarc, spf_pass, fwd, ptr_type=ptr_type)


@pytest.mark.parametrize(("totals", "verdict"), [
    (t("a", 10, spf=10, dkim=10, dmarc=10, spf_pass=10), "authorised"),
    (t("b", 10, dkim=10, dmarc=10, spf_pass=10), "authorised"),  # an ESP: own bounce domain, aligned DKIM
    (t("c", 10, dkim=9, dmarc=9), "forwarded"),  # SPF broken by the forwarder, DKIM survived
    (t("d", 10, fwd=10), "forwarded"),  # the receiver says: forwarded / mailing list
    (t("e", 10, ptr_type="Email Provider"), "forwarded"),
    (t("f", 10, spf=2, dkim=3, dmarc=5), "unauthorised"),
    (t("g", 10), "unauthorised"),
])
def test_source_verdicts(totals, verdict):
    assert classify(totals) == verdict


def test_findings_for_unauthorised_low_alignment_and_tls_failures():
    sources = [Source(t("192.0.2.1", 1000, spf=1000, dmarc=970, spf_pass=1000), "authorised"),
               Source(t("192.0.2.2", 1000, spf=1000, dmarc=990, spf_pass=1000), "authorised"),
               Source(t("203.0.113.9", 7), "unauthorised")]
    found = source_findings("shop.example", sources)
    assert [(f.rule_id, f.evidence["ip"]) for f in found] == [("DMARC-ALIGNMENT-LOW", "192.0.2.1"),
                                                              ("DMARC-SOURCE-UNAUTHORISED", "203.0.113.9")]
    assert "97.0%" in found[0].detail
    tls = tls_findings("shop.example", [{"successful": 120, "failed": 3,
                                         "failure_details": [{"result_type": "certificate-expired"}]}])
    assert [f.rule_id for f in tls] == ["TLSRPT-FAILURES"] and "3 of 123" in tls[0].detail
    assert tls_findings("shop.example", [{"successful": 5, "failed": 0}]) == []
