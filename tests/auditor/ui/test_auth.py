"""Login, logout, password change, language choice and CSRF."""

from __future__ import annotations

import re

from tests.auditor.ui.conftest import email_of, login
from tests.conftest import ADMIN_PASSWORD


def test_pages_need_a_login(client, people):
    for path in ("/", "/audit-log", "/campaigns", "/admin/users", "/admin/keys", "/password"):
        r = client.get(path)
        assert r.status_code == 302, path
        assert r.headers["Location"].startswith("/login?next="), path


def test_login_then_dashboard_shows_the_user(client, people):
    r = login(client, "legal")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert email_of("legal") in page
    assert "What needs you now" in page


def test_wrong_password_is_refused(client, people):
    r = login(client, "legal", "not-the-password")
    assert r.status_code == 401
    assert "Wrong email or password" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_next_stays_on_this_site(client, people):
    r = client.post("/login", data={"email": email_of("legal"), "password": ADMIN_PASSWORD,
                                    "next": "//evil.example/x"})
    assert r.headers["Location"] == "/"
    client.post("/logout")
    r = client.post("/login", data={"email": email_of("legal"), "password": ADMIN_PASSWORD, "next": "/audit-log"})
    assert r.headers["Location"] == "/audit-log"


def test_logout_ends_the_session(client, people):
    login(client, "admin")
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 200  # GET only shows the button
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_needs_the_current_one_and_logs_out_other_sessions(app, people):
    first, second = app.test_client(), app.test_client()
    login(first, "security")
    login(second, "security")
    bad = first.post("/password", data={"current": "wrong-password", "new": "a-new-password-1",
                                        "confirm": "a-new-password-1"})
    assert bad.status_code == 400
    short = first.post("/password", data={"current": ADMIN_PASSWORD, "new": "short", "confirm": "short"})
    assert short.status_code == 400
    ok = first.post("/password", data={"current": ADMIN_PASSWORD, "new": "a-new-password-1",
                                       "confirm": "a-new-password-1"})
    assert ok.status_code == 302
    assert first.get("/").status_code == 200          # the changer's session is renewed
    assert second.get("/").status_code == 302         # the other session ended
    assert login(app.test_client(), "security", "a-new-password-1").status_code == 302


def test_language_follows_the_browser_then_the_switch(client, people):
    login(client, "legal")
    ru = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert 'lang="ru"' in ru and "Что ждёт вас сейчас" in ru
    en = client.get("/", headers={"Accept-Language": "de-DE,en;q=0.8"}).get_data(as_text=True)
    assert 'lang="en"' in en and "What needs you now" in en
    client.post("/lang", data={"lang": "ru", "next": "/"})
    switched = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="ru"' in switched


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_csrf_is_enforced_on_ui_forms(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    make_user(email_of("admin"), "admin", key=False, target_app=app)
    c = app.test_client()
    no_token = c.post("/login", data={"email": email_of("admin"), "password": ADMIN_PASSWORD})
    assert no_token.status_code == 400
    assert c.get("/").status_code == 302
    token = _token(c.get("/login").get_data(as_text=True))
    ok = c.post("/login", data={"email": email_of("admin"), "password": ADMIN_PASSWORD, "csrf_token": token})
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    forged = c.post("/admin/users", data={"email": "x@auditor.test", "role": "admin", "password": "p" * 12})
    assert forged.status_code == 400
    assert "x@auditor.test" not in c.get("/admin/users").get_data(as_text=True)


def test_api_and_public_endpoints_are_exempt_from_csrf(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    csrf = app.extensions["csrf"]
    assert {"api", "public"} <= {getattr(b, "name", b) for b in csrf._exempt_blueprints}
    key = make_user("s@auditor.test", "sender", target_app=app)[1]
    r = app.test_client().post("/api/v1/consents", json={}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code != 400 or "CSRF" not in r.get_data(as_text=True)
    assert r.status_code in (201, 404, 422)


def test_every_russian_message_is_translated_and_compiled():
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    from auditor.ui import TRANSLATIONS

    folder = TRANSLATIONS / "ru" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as f:
        po = read_po(f)
    with (folder / "messages.mo").open("rb") as f:
        mo = read_mo(f)
    untranslated = [m.id for m in po if m.id and not m.string]
    assert untranslated == []
    assert {m.id for m in po if m.id} == {m.id for m in mo if m.id}
