"""The receiver's check before a 2xx with a worker (``count_events``) refuses exactly what the parser
refuses: both read the body through the provider's ``raw_events``; this runs them side by side."""

from __future__ import annotations

import pytest

from checks.providers import PayloadError, count_events, parse_payload
from tests.checks.providers.conftest import fixture_bytes, unisender_body

EVENT = '{"email": "a@example.org", "event": "delivered", "timestamp": %s}'
BODIES = [b"{}", b"[1]", b"\xff", b"[", b"[]", b'[{"email": "a@example.org"}]',
          b'[{"email": " ", "event": "open", "timestamp": 1}]', b'[{"email": 5, "event": "open", "timestamp": 1}]',
          *((f"[{EVENT % ts}]").encode() for ts in ('"zz"', '"17"', "true", "null", "-5", "1.5", "1.5e300",
                                                     "253402300799", "253402300800", "99999999999999999",
                                                     '"99999999999"', '"999999999999"', '"253402300800"',
                                                     '"\\u0661\\u0662"', '"\\u00b2"', '" 17"', '""', "NaN")),
          (f"[{EVENT % 1}, {EVENT % 2}, {EVENT % 'false'}, {EVENT % 'null'}]").encode(),
          # a lone UTF-16 surrogate escape is text no UTF-8 encoder takes; a paired one is an emoji
          b'[{"email": "a@example.org", "event": "open", "timestamp": 1, "ua": "\\ud800"}]',
          b'[{"email": "a@example.org", "event": "open", "timestamp": 1, "ua": "\\uDFFF x"}]',
          b'[{"email": "a@example.org", "event": "open", "timestamp": 1, "ua": "\\ud83d\\ude00 \\\\ud800"}]']
STATUS = '{"event_name": "transactional_email_status", "event_data": %s}'
UNISENDER_BODIES = [b"[]", b"{}", b'{"events_by_user": 5}', b'{"events_by_user": [5]}',
                    b'{"events_by_user": [{"events": [1]}]}', b'{"events_by_user": [{"events": []}]}',
                    *(('{"events_by_user": [{"events": [' + e + ']}]}').encode() for e in (
                        '{"event_name": "transactional_spam_block", "event_data": {}}',
                        '{"event_name": "transactional_email_status"}',
                        STATUS % '{"email": "a@example.org", "status": "delivered"}',
                        STATUS % '{"email": "a@example.org", "status": "delivered", "event_time": "zz"}',
                        STATUS % '{"email": " ", "status": "delivered", "event_time": "2026-11-23 09:01:00"}',
                        STATUS % '{"email": "a@example.org", "status": 3, "event_time": "2026-11-23 09:01:00"}',
                        STATUS % '{"email": "a@example.org", "status": "spam", "event_time": "2026-11-23 09:01:00"}',
                        STATUS % '{"email": "a@example.org", "status": "spam", "event_time": "2026-11-23T09:01:00+03:00"}',
                        STATUS % '{"email": "a@example.org", "status": "spam", "event_time": "2026-11-23 09:01:00",'
                                 ' "job_id": "\\udc00"}'))]
MAILCHIMP_BODIES = [b"", b"\xff", b"type=unsubscribe", b"type=&data%5Bemail%5D=a%40example.org",
                    b"type=unsubscribe&data%5Bemail%5D=a%40example.org",
                    b"type=unsubscribe&data%5Bemail%5D=a%40example.org&fired_at=yesterday",
                    b"type=unsubscribe&data%5Bemail%5D=a%40example.org&fired_at=2026-11-23+09%3A30%3A00",
                    b"type=upemail&data%5Bnew_email%5D=b%40example.org&fired_at=2026-11-23+09%3A30%3A00",
                    b"type=unsubscribe&data%5Bemail%5D=%ED%A0%80&fired_at=2026-11-23+09%3A30%3A00",
                    b"type=unsubscribe&&fired_at"]


def _answer(fn, provider: str, body: bytes):
    try:
        out = fn(provider, body)
    except PayloadError as exc:
        return "refused", str(exc)
    return "events", out if isinstance(out, int) else len(out)


@pytest.mark.parametrize(("provider", "body"), [*((p, b) for p in ("sendgrid", "sendpulse") for b in BODIES),
                                                *(("unisender", b) for b in UNISENDER_BODIES),
                                                *(("mailchimp", b) for b in MAILCHIMP_BODIES)])
def test_count_events_refuses_what_parse_refuses(provider, body):
    assert _answer(count_events, provider, body) == _answer(parse_payload, provider, body)


@pytest.mark.parametrize(("provider", "body"), [("sendgrid", fixture_bytes("sendgrid.json")),
                                                ("sendpulse", fixture_bytes("sendpulse.json")),
                                                ("unisender", unisender_body()),
                                                ("mailchimp", fixture_bytes("mailchimp_abuse.txt"))])
def test_count_events_of_real_shaped_payloads(provider, body):
    assert count_events(provider, body) == len(parse_payload(provider, body)) > 0


@pytest.mark.parametrize("provider", ["sendgrid", "sendpulse", "unisender"])
def test_a_lone_surrogate_escape_is_refused_as_not_utf8(provider):
    body = BODIES[-3] if provider != "unisender" else UNISENDER_BODIES[-1]
    assert _answer(count_events, provider, body) == ("refused", "the body is not UTF-8: it escapes a lone UTF-16 "
                                                                "surrogate")
    emoji = parse_payload("sendgrid", BODIES[-1])  # paired, and an escaped backslash before "ud800"
    assert emoji[0].recipient == "a@example.org"
