"""Request limits an ESP and an integration engineer meet: per integration on webhooks, per address
only for unknown tokens, and the gate's own per-key limit; the cached token lookup forgets removed
integrations."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from limits import parse_many

from auditor.config import load_settings
from tests.auditor.campaigns.loop import build_loop
from tests.auditor.integrations.conftest import add_integration, build_hooks


def _one_event(n: int) -> bytes:
    return json.dumps([{"email": f"r{n}@example.org", "timestamp": 1796029200 + n, "event": "delivered",
                        "sg_event_id": f"burst-{n}"}]).encode()


def _assert_429(r, who: str) -> None:
    assert r.status_code == 429
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json["status"] == 429 and f"from this {who}" in r.json["detail"]


def _per_minute(value: str) -> float:
    return min(item.amount * 60 / item.get_expiry() for item in parse_many(value))


def test_defaults_leave_room_for_a_large_sender_and_a_busy_gate():
    s = load_settings({})
    assert _per_minute(s.ratelimit_hooks) >= 6000  # a large sender's ESP posts thousands a minute
    assert _per_minute(s.ratelimit_gate) >= 10 * 700  # "a million gate calls a day" is ~700 a minute
    assert _per_minute(s.ratelimit_hooks_address) <= 120  # unknown tokens: guessing stays slow


def test_defaults_accept_a_burst_on_a_valid_token_and_stop_guessing(hooks_sqlite):
    h = hooks_sqlite
    # the old per-address limit was 120/minute: an ESP posting from one address met it
    answers = [h.post("sendgrid", _one_event(n)) for n in range(150)]
    assert [r.status_code for r in answers] == [200] * 150
    assert h.count("delivery_events", "provider_event_id LIKE 'burst-%'") == 150
    # with the same defaults, guessing tokens from one address is stopped after 60 a minute
    guesses = [h.post("sendgrid", _one_event(0), url=f"/hooks/sendgrid/guess{n}") for n in range(61)]
    assert [r.status_code for r in guesses[:60]] == [403] * 60
    _assert_429(guesses[60], "client")
    assert h.post("sendgrid", _one_event(150)).status_code == 200  # the valid token still passes


def test_bad_tokens_from_one_address_get_429_and_valid_tokens_from_it_do_not(make_app, make_user, dns_server):
    h = build_hooks(build_loop(make_app, make_user, dns_server, ratelimit_hooks_address="5/minute"))
    bad = "/hooks/sendgrid/" + "x" * 43
    answers = [h.post("sendgrid", _one_event(0), url=bad) for _ in range(5)]
    assert [r.status_code for r in answers] == [403] * 5
    _assert_429(h.post("sendgrid", _one_event(0), url=bad), "client")
    # a token of another provider is unknown for this one: counted the same way
    _assert_429(h.post("mailchimp", b"type=unsubscribe", url=h.urls["sendgrid"].replace("sendgrid", "mailchimp")),
                "client")
    # the same address with a valid token is not held back by its guessing neighbour (a shared ESP IP)
    for n in range(10):
        assert h.post("sendgrid", _one_event(n)).status_code == 200
    assert h.client.get(h.urls["mailchimp"]).status_code == 200
    # another address has its own allowance for unknown tokens
    assert h.post("sendgrid", _one_event(0), url=bad, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 403
    assert h.count("webhook_inbox", "integration_id NOT IN (SELECT id FROM integrations)") == 0


def test_the_webhook_limit_is_per_integration_from_any_address(make_app, make_user, dns_server):
    h = build_hooks(build_loop(make_app, make_user, dns_server, ratelimit_hooks="3/minute"))
    for n in range(3):
        assert h.post("sendgrid", _one_event(n), environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"}).status_code == 200
    r = h.post("sendgrid", _one_event(9), environ_base={"REMOTE_ADDR": "203.0.113.9"})
    _assert_429(r, "integration")
    assert h.count("webhook_inbox") == 3  # the refused request stored nothing
    sp = json.dumps([{"email": "anna@example.org", "event": "delivered", "timestamp": 1796029200}]).encode()
    assert h.post("sendpulse", sp).status_code == 200  # another integration: its own allowance


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_removed_integration_stops_at_once_though_its_token_was_cached(request, make_app, make_user, dns_server,
                                                                          engine):
    from auditor.db import transaction
    from auditor.integrations import services as svc

    settings = {"database_url": request.getfixturevalue("pg_url")} if engine == "postgres" else {}
    h = build_hooks(build_loop(make_app, make_user, dns_server, **settings))
    app = h.loop.app
    assert h.post("sendgrid", _one_event(1)).status_code == 200  # the token is cached now
    with transaction(app.extensions["auditor"].sessions) as s:  # removed here: this process forgets it
        svc.remove_integration(s, "sg")
    assert h.post("sendgrid", _one_event(2)).status_code == 403
    # removed by another process (the CLI): this one still holds the copy; the inbox write refuses it
    assert h.post("sendpulse", b'[{"email": "anna@example.org", "event": "open", "timestamp": 1}]').status_code == 200
    with app.extensions["auditor"].engine.begin() as c:
        iid = c.execute(sa.text("SELECT id FROM integrations WHERE name = 'sp'")).scalar()
        c.execute(sa.text("DELETE FROM delivery_events WHERE integration_id = :i"), {"i": iid})
        c.execute(sa.text("DELETE FROM webhook_inbox WHERE integration_id = :i"), {"i": iid})
        c.execute(sa.text("DELETE FROM integrations WHERE id = :i"), {"i": iid})
    # a new integration may even take the same id (SQLite reuses the highest): the token still decides
    add_integration(app, "sp2", "sendpulse")
    r = h.post("sendpulse", b'[{"email": "anna@example.org", "event": "open", "timestamp": 2}]')
    assert r.status_code == 403, r.get_data(as_text=True)
    assert h.count("webhook_inbox") == 0 and h.count("delivery_events", "kind = 'opened'") == 0


def test_gate_checks_have_their_own_per_key_limit(make_app, make_user):
    app = make_app(ratelimit_api_key="2/minute", ratelimit_api_address="2/minute", ratelimit_gate="5/minute")
    key = make_user("gate@shop.example", "sender", scopes=["gate:check", "consent:read"], target_app=app)[1]
    other = make_user("gate2@shop.example", "sender", scopes=["gate:check"], target_app=app)[1]
    client = app.test_client()

    def gate(k: str, addr: str = "127.0.0.1"):
        return client.post("/api/v1/gate/check", json={"approval_token": "x", "recipients": ["a@example.org"]},
                           headers={"Authorization": f"Bearer {k}"}, environ_base={"REMOTE_ADDR": addr})

    # over the API's per-key and per-address limits (2), under the gate's (5)
    assert [gate(key).status_code != 429 for _ in range(5)] == [True] * 5
    _assert_429(gate(key, "198.51.100.4"), "API key")  # per key, from any address
    # the rest of the API keeps its own count for the key
    assert client.get("/api/v1/ledger/checkpoint", headers={"Authorization": f"Bearer {key}"}).status_code != 429
    assert gate(other, "198.51.100.5").status_code != 429
