"""Provider payloads read into ProviderEvents: kinds, ids, times, campaigns; malformed bodies refused."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from checks.providers import PayloadError, SignatureError, parse_payload
from checks.providers.files import MappingError, read_export
from checks.providers.sendgrid import verify_signature
from checks.providers.unisender import verify_auth
from tests.checks.providers.conftest import (
    UNISENDER_KEY,
    SendGridSigner,
    fixture_bytes,
    unisender_body,
)


def kinds(events):
    return [(e.recipient, e.kind) for e in events]


def test_sendgrid_events_map_to_kinds_with_ids_and_campaign():
    events = parse_payload("sendgrid", fixture_bytes("sendgrid.json"))
    by = dict(kinds(events[:8]))
    assert by["boris@example.org"] == "unsubscribe"
    assert by["vera@example.org"] == "complaint"
    assert by["gleb@example.org"] == "hard_bounce"
    assert by["dina@example.org"] == "soft_bounce"  # type "blocked" is not permanent
    assert by["egor@example.org"] == "group_unsubscribe"
    assert [e.kind for e in events[8:]] == ["opened", "clicked", "deferred"]
    unsub = events[2]
    assert unsub.event_id == "Pql6PUJm9Vp7wl3wO3zV8A==" and unsub.campaign_id == 1
    assert unsub.occurred_at == datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
    assert events[7].event_id == unsub.event_id  # the duplicate keeps its provider id
    assert events[4].reason.startswith("550 5.1.1")


def test_sendgrid_campaign_from_nested_custom_args():
    body = b'[{"email":"a@example.org","timestamp":1,"event":"delivered","custom_args":{"auditor_campaign":7}}]'
    assert parse_payload("sendgrid", body)[0].campaign_id == 7


def test_sendgrid_signature_verifies_and_refuses_forgeries():
    signer = SendGridSigner()
    body = fixture_bytes("sendgrid.json")
    h = signer.headers(body)
    sig, ts = h["X-Twilio-Email-Event-Webhook-Signature"], h["X-Twilio-Email-Event-Webhook-Timestamp"]
    verify_signature(signer.public_b64, sig, ts, body)
    with pytest.raises(SignatureError):
        verify_signature(signer.public_b64, sig, ts, body.replace(b"boris", b"borya"))
    with pytest.raises(SignatureError):
        verify_signature(signer.public_b64, sig, str(int(ts) + 1), body)
    with pytest.raises(SignatureError):
        verify_signature(SendGridSigner().public_b64, sig, ts, body)  # another key
    with pytest.raises(SignatureError):
        verify_signature(signer.public_b64, None, ts, body)
    with pytest.raises(SignatureError):
        verify_signature(signer.public_b64, "not base64!", ts, body)


def test_mailchimp_forms_unsubscribe_abuse_hard_and_other():
    assert kinds(parse_payload("mailchimp", fixture_bytes("mailchimp_unsubscribe.txt"))) == [
        ("boris@example.org", "unsubscribe")]
    assert parse_payload("mailchimp", fixture_bytes("mailchimp_abuse.txt"))[0].kind == "complaint"
    hard = parse_payload("mailchimp", fixture_bytes("mailchimp_hard.txt"))[0]
    assert hard.kind == "hard_bounce" and hard.occurred_at == datetime(2026, 11, 23, 9, 20, tzinfo=UTC)
    assert parse_payload("mailchimp", fixture_bytes("mailchimp_subscribe.txt"))[0].kind == "other"
    again = parse_payload("mailchimp", fixture_bytes("mailchimp_unsubscribe.txt"))[0]
    assert again.event_id == parse_payload("mailchimp", fixture_bytes("mailchimp_unsubscribe.txt"))[0].event_id
    assert again.event_id.startswith("c:")


def test_unisender_auth_and_events():
    body = unisender_body()
    verify_auth(UNISENDER_KEY, body)
    with pytest.raises(SignatureError):
        verify_auth("another-key", body)
    with pytest.raises(SignatureError):
        verify_auth(UNISENDER_KEY, body.replace(b"boris", b"borya"))
    events = parse_payload("unisender", body)
    assert kinds(events) == [("anna@example.org", "delivered"), ("boris@example.org", "unsubscribe"),
                             ("vera@example.org", "complaint"), ("gleb@example.org", "hard_bounce"),
                             ("boris@example.org", "unsubscribe")]  # the spam-block notice is skipped
    assert events[1].event_id == events[4].event_id  # same content, same id
    assert events[0].campaign_id == 1 and events[3].campaign_id is None
    assert events[3].reason == "550 5.1.1 No such user"


def test_sendpulse_events():
    events = parse_payload("sendpulse", fixture_bytes("sendpulse.json"))
    assert [e.kind for e in events] == ["complaint", "opened", "unsubscribe", "hard_bounce", "delivered",
                                        "clicked", "unsubscribe"]
    assert events[2].event_id == events[6].event_id and events[2].reason == "all lists"
    assert events[0].occurred_at == datetime(2026, 11, 23, 9, 10, tzinfo=UTC)


@pytest.mark.parametrize(("provider", "body", "says"), [
    ("sendgrid", b'{"email": "a@example.org"}', "array"),
    ("sendgrid", b'[{"email": "a@example.org", "event": "delivered", "timestamp": "soon"}]', "Unix time"),
    ("sendgrid", b'[{"email": "a@example.org", "event": "deliv', "not valid JSON"),
    ("sendgrid", b'[{"event": "delivered", "timestamp": 1}]', "needs 'email'"),
    ("sendpulse", b'[1]', "not an object"),
    ("unisender", b'{"auth": "x", "events_by_user": [{"events": [{"event_name": "x"}]}]}', "event_data"),
    ("unisender", b'{"auth": "x"}', "events_by_user"),
    ("mailchimp", b"type=unsubscribe&fired_at=2026-11-23+09%3A30%3A00", "data[email]"),
    ("mailchimp", b"type=unsubscribe&data%5Bemail%5D=a%40example.org&fired_at=yesterday", "date-time"),
    ("mailchimp", b"\xff\xfe", "form-encoded"),
])
def test_malformed_bodies_say_why(provider, body, says):
    with pytest.raises(PayloadError, match=None) as exc:
        parse_payload(provider, body)
    assert says in str(exc.value)


def test_exports_of_providers_and_a_mapped_crm_file():
    sg = "email,created,status,reason\ngleb@example.org,1795424600,5.1.1,no such user\n,1795424600,5.1.1,x\n"
    rows = list(read_export("sendgrid", io.StringIO(sg)))
    assert rows[0][1].kind == "hard_bounce" and rows[0][2] is None
    assert rows[1] == (3, None, "no email address")
    mc = "Email Address,First Name,UNSUB_TIME,UNSUB_REASON\nboris@example.org,Boris,2026-11-23 09:30:00,spam\n"
    (line, ev, problem), = read_export("mailchimp", io.StringIO(mc))
    assert ev.kind == "unsubscribe" and ev.occurred_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    bitrix = ("ID;Имя;E-mail (рабочий);Не участвует в рассылках;Дата изменения\n"
              "11;Анна;anna@example.org;Нет;23.11.2026 12:00:00\n"
              "12;Борис;boris@example.org;Да;23.11.2026 12:30:00\n"
              "13;Вера;;Да;23.11.2026 12:31:00\n"
              "14;Глеб;gleb@example.org;Да;вчера\n")
    mapping = {"address": "E-mail (рабочий)", "delimiter": ";", "id": "ID", "time": "Дата изменения",
               "time_format": "%d.%m.%Y %H:%M:%S", "timezone": "+03:00",
               "event": {"column": "Не участвует в рассылках", "values": {"Да": "unsubscribe", "Нет": "skip"}}}
    rows = list(read_export("csv", io.StringIO(bitrix), mapping))
    assert rows[0] == (2, None, None)
    assert rows[1][1].recipient == "boris@example.org" and rows[1][1].event_id == "file:12"
    assert rows[1][1].occurred_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert rows[2][0] == 4 and "empty" in rows[2][2]
    assert rows[3][0] == 5 and "date-time" in rows[3][2]
    with pytest.raises(MappingError):
        list(read_export("csv", io.StringIO(bitrix), {"address": "E-mail", "event": {"kind": "gone"}}))
