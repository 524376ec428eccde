"""Hostile and broken input: findings or MessageInputError, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.message import MessageInputError
from tests.checks.message.conftest import ids, make_raw

BASE = make_raw()
INSERTS = [b"\r\n", b":", b"=", b";", b"<", b">", b"\r\n\r\n", b"\x00", b"=?utf-8?b?zz?=", b"From: a@b.c\r\n",
           b"DKIM-Signature: v=1; a=rsa-sha256; d=x; s=y; h=from; b=; bh=\r\n",
           b"Content-Type: multipart/mixed; boundary=x\r\n"]


@pytest.mark.parametrize("raw", [
    b"From: undisclosed-recipients:;\r\nDate: Fri, 20 Nov 2026 09:00:00 +0000\r\n\r\nbody",
    b"From: a@shop.example\r\nDate: Fri, 20 Nov 99999999999 09:00:00 +0000\r\nMessage-ID: <@>\r\n\r\nb",
    b"From: \"x\" <\r\nMessage-ID: <a\r\n\r\nbody",
    b"From: a@shop.example\r\nContent\xa1Type: text/html\r\nList-Unsubse/u/abc>\r\n\r\n<a href=x>",
    b"From: a@shop.example\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe",
])
def test_parser_edge_cases_become_findings(check, raw):
    assert "MSG-HEADER-INVALID" in ids(check(raw))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 2), st.integers(0, 255),
                          st.sampled_from(INSERTS)), min_size=1, max_size=25))
def test_mutated_messages_never_crash(check, edits):
    raw = bytearray(BASE)
    for pos, op, byte, insert in edits:
        pos %= max(len(raw), 1)
        if op == 0:
            raw[pos:pos + 1] = bytes([byte])
        elif op == 1:
            del raw[pos:pos + 40]
        else:
            raw[pos:pos] = insert
    try:
        report = check(bytes(raw))
    except MessageInputError:
        return
    assert all(f.rule_id and f.severity in ("block", "warn", "info") for f in report.findings)
