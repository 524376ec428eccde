"""The receiver's check before a 2xx with a worker (``count_events``) refuses exactly what the parser refuses."""

from __future__ import annotations

import pytest

from checks.providers import PayloadError, count_events, parse_payload
from tests.checks.providers.conftest import fixture_bytes, unisender_body

EVENT = '{"email": "a@example.org", "event": "delivered", "timestamp": %s}'
BODIES = [b"{}", b"[1]", b"\xff", b"[", b"[]", b'[{"email": "a@example.org"}]',
          b'[{"email": " ", "event": "open", "timestamp": 1}]', b'[{"email": 5, "event": "open", "timestamp": 1}]',
          *((f"[{EVENT % ts}]").encode() for ts in ('"zz"', '"17"', "true", "null", "-5", "1.5", "1.5e300",
                                                     "253402300799", "253402300800", "99999999999999999")),
          (f"[{EVENT % 1}, {EVENT % 2}, {EVENT % 'false'}, {EVENT % 'null'}]").encode()]


def _answer(fn, provider: str, body: bytes):
    try:
        out = fn(provider, body)
    except PayloadError as exc:
        return "refused", str(exc)
    return "events", out if isinstance(out, int) else len(out)


@pytest.mark.parametrize("provider", ["sendgrid", "sendpulse"])
@pytest.mark.parametrize("body", BODIES)
def test_count_events_refuses_what_parse_refuses(provider, body):
    assert _answer(count_events, provider, body) == _answer(parse_payload, provider, body)


@pytest.mark.parametrize(("provider", "body"), [("sendgrid", fixture_bytes("sendgrid.json")),
                                                ("sendpulse", fixture_bytes("sendpulse.json")),
                                                ("unisender", unisender_body()),
                                                ("mailchimp", fixture_bytes("mailchimp_abuse.txt"))])
def test_count_events_of_real_shaped_payloads(provider, body):
    assert count_events(provider, body) == len(parse_payload(provider, body)) > 0
