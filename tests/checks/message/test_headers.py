"""MSG-HEADER-INVALID, parsing and building: malformed input gives findings, never a crash."""

from __future__ import annotations

import pytest

from checks.message import MessageInputError, build_message
from tests.checks.message.conftest import DOMAIN, ids, make_raw


def test_well_formed_message_has_no_header_finding(check):
    report = check(make_raw())
    assert "MSG-HEADER-INVALID" not in ids(report)
    assert report.from_addr == f"news@{DOMAIN}" and report.from_domain == DOMAIN


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"date": False}, "no Date"),
    ({"message_id": False}, "no Message-ID"),
    ({"from_": "not an address at all"}, "From"),
    ({"from_": "a@shop.example, b@shop.example"}, "2 mailboxes"),
])
def test_missing_or_broken_headers_are_invalid(check, kwargs, problem):
    report = check(make_raw(selector=None, **kwargs))
    found = [f for f in report.findings if f.rule_id == "MSG-HEADER-INVALID"]
    assert found and found[0].severity == "block"
    assert any(problem in f.detail for f in found), [f.detail for f in found]


def test_two_from_headers_are_invalid(check):
    raw = make_raw(selector=None).replace(b"From: ", b"From: other@evil.example\r\nFrom: ", 1)
    found = [f.detail for f in check(raw).findings if f.rule_id == "MSG-HEADER-INVALID"]
    assert any("2 From headers" in d for d in found)


def test_missing_from_is_invalid_and_skips_alignment(check):
    raw = b"Date: Fri, 20 Nov 2026 09:00:00 +0000\r\nMessage-ID: <a@b.example>\r\n\r\nhello\r\n"
    report = check(raw, marketing=False)
    assert "MSG-HEADER-INVALID" in ids(report) and "MSG-NOT-ALIGNED" not in ids(report)
    assert report.from_domain is None


@pytest.mark.parametrize("raw", [
    b"just some words, no header section\n\nand a body",
    b"From: a@shop.example\r\nContent-Type: multipart/alternative\r\n\r\nno boundary at all",
    b'From: a@shop.example\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\nno parts\r\n',
    b"\xff\xfe\x00garbage\r\n\r\n\x00\x01",
    b"From: =?utf-8?q?broken?= <@@>\r\nDate: yesterday\r\nMessage-ID: nope\r\n\r\nbody",
])
def test_malformed_input_gives_findings_not_a_crash(check, raw):
    report = check(raw)
    assert "MSG-HEADER-INVALID" in ids(report)


def test_not_a_message_is_a_clear_error(check):
    with pytest.raises(MessageInputError, match="bytes, str or EmailMessage"):
        check(12345)
    with pytest.raises(MessageInputError, match="empty"):
        check(b"   ")


def test_build_message_adds_date_and_message_id(check):
    msg = build_message(from_=f"News <news@{DOMAIN}>", subject="Hi", html="<p>x</p>", text="x",
                        headers={"List-Unsubscribe": "<https://shop.example/u/1>"})
    assert msg["Date"] and msg["Message-ID"].endswith(f"@{DOMAIN}>")
    assert msg["List-Unsubscribe"] == "<https://shop.example/u/1>"
    report = check(msg, bulk=False)
    assert "MSG-HEADER-INVALID" not in ids(report) and report.has_text_part


def test_build_message_keeps_given_date_and_refuses_no_body():
    msg = build_message(from_="a@shop.example", subject="s", text="t",
                        headers={"Date": "Fri, 20 Nov 2026 09:00:00 +0000", "Message-ID": "<x@shop.example>"})
    assert msg.get_all("Date") == ["Fri, 20 Nov 2026 09:00:00 +0000"] and msg["Message-ID"] == "<x@shop.example>"
    with pytest.raises(MessageInputError):
        build_message(from_="a@shop.example", subject="s")
