"""Request limits: per API key and address on the API, per address on /u/ and on /hooks/ without a
known token; 429 problem+json (per integration and the gate's own limits: tests/auditor/integrations/test_limits.py)."""

from __future__ import annotations

import pytest
from flask import Blueprint

from auditor import ratelimit
from auditor.config import ConfigError, load_settings


def _hooks_app(make_app, **overrides):
    """An app with a webhook route mounted under /hooks/ and one marked ``limited`` elsewhere."""
    app = make_app(**overrides)
    bp = Blueprint("hooks_test", __name__, url_prefix="/hooks")

    @bp.post("/provider")
    def provider_hook():
        return {"ok": True}

    @ratelimit.limited("hooks")
    def marked():
        return {"ok": True}

    app.register_blueprint(bp)
    app.add_url_rule("/elsewhere", "marked", marked, methods=["POST"])
    return app


def _assert_429(r) -> None:
    assert r.status_code == 429
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json["status"] == 429 and "retry in" in r.json["detail"]


def test_api_limit_is_per_key_and_per_address(make_app, make_user):
    app = make_app(ratelimit_api_key="3/minute", ratelimit_api_address="5/minute")
    one = make_user("a@shop.example", "sender", scopes=["consent:read"], target_app=app)[1]
    two = make_user("b@shop.example", "sender", scopes=["consent:read"], target_app=app)[1]
    three = make_user("c@shop.example", "sender", scopes=["consent:read"], target_app=app)[1]
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/ledger/checkpoint", headers={"Authorization": f"Bearer {one}"}).status_code != 429
    _assert_429(client.get("/api/v1/ledger/checkpoint", headers={"Authorization": f"Bearer {one}"}))
    # Another key from the same address has its own allowance (3) but the address's (5) runs out first.
    answers = [client.get("/api/v1/ledger/checkpoint", headers={"Authorization": f"Bearer {two}"})
               for _ in range(3)]
    passed = [r for r in answers if r.status_code != 429]
    assert 1 <= len(passed) <= 2 and answers[len(passed)].status_code == 429
    _assert_429(answers[-1])
    # Another address is not limited by this one's spending; a spent key is, from any address.
    other = client.get("/api/v1/ledger/checkpoint", headers={"Authorization": f"Bearer {three}"},
                       environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code != 429
    _assert_429(client.get("/api/v1/ledger/checkpoint", headers={"Authorization": f"Bearer {one}"},
                           environ_base={"REMOTE_ADDR": "198.51.100.10"}))


def test_public_unsubscribe_routes_are_limited_per_address(make_app):
    app = make_app(ratelimit_public="2/minute")
    client = app.test_client()
    for _ in range(2):
        assert client.get("/u/not-a-token").status_code != 429
    _assert_429(client.post("/u/not-a-token", data=b"List-Unsubscribe=One-Click"))
    assert client.get("/u/not-a-token", environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code != 429
    assert client.get("/healthz").status_code == 200  # outside the limited areas


def test_hooks_limit_applies_by_prefix_and_by_decorator(make_app):
    # neither route carries a webhook URL token: they count per address, as unknown tokens do
    app = _hooks_app(make_app, ratelimit_hooks_address="2/minute")
    client = app.test_client()
    assert client.post("/hooks/provider").status_code == 200
    assert client.post("/elsewhere").status_code == 200  # the same area: one allowance
    _assert_429(client.post("/hooks/provider"))
    _assert_429(client.post("/elsewhere"))


def test_limits_can_be_disabled(make_app):
    app = make_app(ratelimit_public="1/minute", ratelimit_enabled=False)
    client = app.test_client()
    assert [client.get("/u/x").status_code != 429 for _ in range(3)] == [True] * 3


def test_redis_storage_is_shared_by_workers(make_app, redis_url):
    import redis

    first = _hooks_app(make_app, ratelimit_hooks_address="3/minute", ratelimit_storage_url=redis_url)
    second = _hooks_app(make_app, ratelimit_hooks_address="3/minute", ratelimit_storage_url=redis_url)
    assert first.test_client().post("/hooks/provider").status_code == 200
    assert second.test_client().post("/hooks/provider").status_code == 200
    assert first.test_client().post("/hooks/provider").status_code == 200
    _assert_429(second.test_client().post("/hooks/provider"))  # two apps, one count
    keys = redis.Redis.from_url(redis_url).keys("*auditor-rl*")
    assert keys and not any(b"Bearer" in k for k in keys)


def test_storage_reuses_a_redis_broker_and_otherwise_memory(redis_url):
    assert ratelimit.storage_url(load_settings({"broker_url": redis_url})) == redis_url
    assert ratelimit.storage_url(load_settings({"broker_url": "amqp://mq/"})) == "memory://"
    assert ratelimit.storage_url(load_settings({"broker_url": redis_url,
                                                "ratelimit_storage_url": "memory://"})) == "memory://"


@pytest.mark.parametrize(("name", "value"), [("ratelimit_public", "lots"), ("ratelimit_storage_url", "mongodb://x"),
                                             ("ratelimit_gate", "fast"), ("ratelimit_hooks_address", "1/fortnight")])
def test_bad_limit_settings_name_the_setting(name, value):
    with pytest.raises(ConfigError, match=name.upper()):
        load_settings({name: value})


def test_an_unreachable_redis_falls_back_to_counting_in_memory(make_app):
    app = make_app(ratelimit_public="2/minute", ratelimit_storage_url="redis://127.0.0.1:1/0")
    client = app.test_client()
    assert [client.get("/u/x").status_code for _ in range(2)] == [403, 403]  # served, not a 500
    _assert_429(client.get("/u/x"))


def test_a_local_window_refuses_over_each_limit_and_does_not_count_refusals():
    import time

    window = ratelimit.LocalWindow("2/second;3/hour")
    assert [window.hit("a"), window.hit("a")] == [None, None]
    refused = window.hit("a")
    assert refused is not None and refused[0] == "2 per 1 second" and refused[1] == 1
    assert window.hit("b") is None  # another key has its own allowance
    for _ in range(5):
        assert window.hit("a") is not None  # refused, and not counted
    time.sleep(1.05)
    assert window.hit("a") is None  # the second's two left the window; the hour has its third
    over = window.hit("a")
    assert over is not None and over[0] == "3 per 1 hour" and 3500 <= over[1] <= 3601


def test_a_known_webhook_token_is_counted_in_process_without_a_redis_round_trip(make_app, make_user, dns_server,
                                                                                redis_url):
    import redis

    from tests.auditor.campaigns.loop import build_loop
    from tests.auditor.integrations.conftest import build_hooks

    h = build_hooks(build_loop(make_app, make_user, dns_server, ratelimit_storage_url=redis_url,
                               ratelimit_hooks="3/minute"))
    body = b'[{"email": "anna@example.org", "event": "open", "timestamp": 1796029200}]'
    assert [h.post("sendpulse", body).status_code for _ in range(3)] == [200] * 3
    r = h.post("sendpulse", body)
    assert r.status_code == 429 and "from this integration" in r.json["detail"]
    client = redis.Redis.from_url(redis_url)
    assert client.keys("*auditor-rl*") and client.keys("*auditor-rl*hooks*") == []  # known token: not in Redis
    assert h.post("sendpulse", body, url="/hooks/sendpulse/" + "x" * 43).status_code == 403
    assert client.keys("*auditor-rl*hooks-address*")  # an unknown one: counted per address, shared
