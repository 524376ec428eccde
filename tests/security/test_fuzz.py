"""Hostile input to the parsers: CSV/JSONL import, zone files, unsubscribe tokens, MIME, bodies.

Each parser must either accept its input or refuse it with its own error type; nothing else
may escape (an escaping exception is a 500 in the API or a traceback in the CLI).
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.gate.tokens import (
    TokenError,
    read_unsubscribe_token,
    unsubscribe_key,
    unsubscribe_token,
)
from checks.message import check_message
from checks.message.parse import MessageInputError
from checks.resolver import make_resolver
from checks.zone_server import ZoneError, ZoneServer, parse_zone
from consent_ledger.importing import UnusableInput, read_rows

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
HEADER = "type,subject,channel,purpose,source_url,claimed_at\n"
KEY = unsubscribe_key("fuzz-secret")
TOKEN = unsubscribe_token(KEY, 7, "ab" * 32, "email", "marketing")


def _drain(text: str, fmt: str) -> int:
    try:
        return sum(1 for _ in read_rows(io.StringIO(text), fmt))
    except UnusableInput:
        return -1


@FUZZ
@given(st.text(max_size=2000))
def test_csv_import_never_crashes(body):
    assert _drain(HEADER + body, "csv") >= 0
    _drain(body, "csv")


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=200), st.just('{"type":'), st.just("[" * 5000),
                          st.just('{"evidence": 5, "type": "granted"}')), max_size=30))
def test_jsonl_import_never_crashes(lines):
    _drain('{"type":"granted","subject":"a@example.org","channel":"email","purpose":"m"}\n' + "\n".join(lines),
           "jsonl")


@FUZZ
@given(st.text(max_size=1500))
def test_zone_parser_never_crashes(text):
    try:
        parse_zone(text, "example.org")
    except ZoneError:
        pass


@FUZZ
@given(st.text(max_size=300))
def test_unsubscribe_token_parser_refuses_garbage(token):
    try:
        claims = read_unsubscribe_token(KEY, token)
    except TokenError:
        return
    assert token.rstrip("=") == TOKEN.rstrip("=")  # only the genuine token can decode
    assert claims.campaign_id == 7


@FUZZ
@given(st.integers(min_value=0, max_value=len(TOKEN) - 1), st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789"))
def test_any_changed_character_breaks_the_token(i, ch):
    forged = TOKEN[:i] + ch + TOKEN[i + 1:]
    if forged == TOKEN:
        return
    try:
        read_unsubscribe_token(KEY, forged)
    except TokenError:
        return
    raise AssertionError(f"forged token accepted: {forged}")


def test_oversized_and_deep_bodies_are_refused_early(make_app, make_user):
    app = make_app(max_body_bytes=64 * 1024)
    _, key = make_user("crm@auditor.test", "sender", scopes=["consent:write"], target_app=app)
    client = app.test_client()
    h = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    big = client.post("/api/v1/consents", data=b'{"x":"' + b"a" * 70000 + b'"}', headers=h)
    assert big.status_code == 413 and big.mimetype == "application/problem+json"
    deep = client.post("/api/v1/consents", data=b"[" * 20000 + b"]" * 20000, headers=h)
    assert deep.status_code == 400 and "nested" in deep.json["detail"]
    nested = client.post("/api/v1/consents", data=("{\"a\":" * 40 + "1" + "}" * 40).encode(), headers=h)
    assert nested.status_code == 400
    wrong_type = client.post("/api/v1/consents", data=b"type=granted", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"})
    assert wrong_type.status_code == 415


@pytest.fixture(scope="module")
def empty_dns():
    """A loopback DNS server with nothing in it: every DKIM key lookup fails cleanly."""
    with ZoneServer("") as server:
        yield make_resolver([(server.address, server.port)], 0.5)


MIME_PIECES = st.sampled_from([
    "From: a@example.org\r\n", "From: <<>>\r\n", "From: =?utf-8?q?=FF?= <x@y>\r\n", "To: b@example.org\r\n",
    "Subject: =?utf-8?b?0J/RgNC40LLQtdGC?=\r\n", "Content-Type: multipart/alternative; boundary=b\r\n",
    "Content-Type: text/html; charset=unknown-8bit\r\n", "Content-Transfer-Encoding: base64\r\n",
    "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=BBBB\r\n",
    "DKIM-Signature: garbage\r\n", "List-Unsubscribe: <https://x/u>\r\n", "\r\n", "--b\r\n", "--b--\r\n",
    "<a href=\"https://bit.ly/x\">https://bank.example</a>", "<a href='javascript:alert(1)'>", "\x00\xff",
    "=?broken", "a" * 200, "Content-Type: message/rfc822\r\n",
])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(MIME_PIECES, max_size=25), st.binary(max_size=200))
def test_mime_checks_never_crash(empty_dns, pieces, noise):
    raw = "".join(pieces).encode("utf-8", "surrogateescape") + noise
    try:
        report = check_message(raw, resolver=empty_dns)
    except MessageInputError:
        return  # the one refusal the API turns into a problem document
    assert all(f.rule_id for f in report.findings)
