"""Failed logins are limited per account and per address; a correct password still works after."""

from __future__ import annotations

import time

from sqlalchemy import text

from auditor import ratelimit
from auditor.services import db


def test_sixth_failed_login_is_refused_with_retry_after(app, make_user, monkeypatch):
    make_user("dpo@auditor.test", "legal", password="the right password", key=False)
    client = app.test_client()
    for _ in range(5):
        r = client.post("/login", data={"email": "dpo@auditor.test", "password": "wrong guess!!"})
        assert r.status_code == 401
    r = client.post("/login", data={"email": "dpo@auditor.test", "password": "the right password"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "session" not in r.headers.get("Set-Cookie", "") or "user_id" not in r.headers.get("Set-Cookie", "")
    other = client.post("/login", data={"email": "someone@auditor.test", "password": "x"})
    assert other.status_code == 401  # another account from the same address is not yet limited


def test_address_limit_stops_spraying_across_accounts(app, monkeypatch):
    monkeypatch.setattr(ratelimit, "LOGIN_PER_ADDRESS", ratelimit.SlidingWindow("address", 3, 900))
    client = app.test_client()
    for i in range(3):
        assert client.post("/login", data={"email": f"u{i}@auditor.test", "password": "x"}).status_code == 401
    assert client.post("/login", data={"email": "u9@auditor.test", "password": "x"}).status_code == 429


def test_window_slides(app):
    w = ratelimit.SlidingWindow("test", 2, 0.3)
    with app.app_context():
        s = db()
        w.hit(s, "k")
        w.hit(s, "k")
        s.commit()
        assert w.retry_after(s, "k") >= 1
        assert w.retry_after(s, "other") == 0
        time.sleep(0.35)
        assert w.retry_after(s, "k") == 0


def test_the_count_is_shared_by_processes_and_holds_no_address(make_app, db_url, make_user):
    """Two app instances on one database (as two workers are) see each other's failures."""
    one = make_app(database_url=db_url)
    two = make_app(database_url=db_url, instance_path=one.extensions["auditor"].settings.instance_path)
    make_user("dpo@auditor.test", "legal", password="the right password", key=False, target_app=one)
    for n in range(5):
        client = (one if n % 2 else two).test_client()
        assert client.post("/login", data={"email": "dpo@auditor.test", "password": "nope"}).status_code == 401
    r = one.test_client().post("/login", data={"email": "dpo@auditor.test", "password": "the right password"})
    assert r.status_code == 429
    with one.extensions["auditor"].engine.connect() as c:
        rows = c.execute(text("SELECT key_hash FROM login_failures")).scalars().all()
    assert len(rows) == 10 and not any("dpo" in k or "127.0.0.1" in k for k in rows)


def test_session_cookie_flags(app, make_user):
    make_user("sec@auditor.test", "security", password="the right password", key=False)
    r = app.test_client().post("/login", data={"email": "sec@auditor.test", "password": "the right password"})
    cookie = r.headers["Set-Cookie"]
    assert r.status_code == 302 and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_behind_tls(make_app, make_user):
    app = make_app(public_url="https://auditor.example")
    make_user("sec@auditor.test", "security", password="the right password", key=False, target_app=app)
    r = app.test_client().post("/login", data={"email": "sec@auditor.test", "password": "the right password"})
    assert "Secure" in r.headers["Set-Cookie"]


def test_security_headers_on_pages_and_api(client):
    for path in ("/login", "/api/openapi.json", "/healthz"):
        h = client.get(path).headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]


def test_behind_a_trusted_proxy_clients_are_told_apart(make_app, monkeypatch):
    monkeypatch.setattr(ratelimit, "LOGIN_PER_ADDRESS", ratelimit.SlidingWindow("address", 2, 900))
    app = make_app(trusted_proxies=1)
    client = app.test_client()

    def attempt(n: int, forwarded: str) -> int:
        return client.post("/login", data={"email": f"u{n}@auditor.test", "password": "x"},
                           headers={"X-Forwarded-For": forwarded}).status_code

    assert [attempt(n, "203.0.113.7") for n in range(3)] == [401, 401, 429]
    assert attempt(9, "203.0.113.8") == 401  # another client behind the same proxy
    # Without a trusted proxy the header is ignored: everyone is the proxy's address.
    plain = make_app().test_client()
    codes = [plain.post("/login", data={"email": f"v{n}@auditor.test", "password": "x"},
                        headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(3)]
    assert codes == [401, 401, 429]


def test_old_failures_of_every_key_are_purged(app):
    with app.app_context():
        s = db()
        s.execute(text("INSERT INTO login_failures (key_hash, at) VALUES ('stale', :at)"),
                  {"at": time.time() - ratelimit.RETAIN - 60})
        s.commit()
        ratelimit.login_failed(s, "someone@auditor.test", "192.0.2.9")
        s.commit()
        keys = s.execute(text("SELECT key_hash FROM login_failures")).scalars().all()
    assert "stale" not in keys and len(keys) == 2
