"""Administration of users and keys, the audit log and role limits."""

from __future__ import annotations

from tests.auditor.ui.conftest import login


def test_only_admins_open_the_admin_pages(as_role):
    for role in ("legal", "security", "sender"):
        c = as_role(role)
        assert c.get("/admin/users").status_code == 403, role
        assert c.get("/admin/keys").status_code == 403, role
        assert c.post("/admin/keys", data={"name": "x", "user_id": "1"}).status_code == 403, role
    assert as_role("admin").get("/admin/users").status_code == 200


def test_admin_creates_a_user_who_can_log_in(app, as_role):
    c = as_role("admin")
    r = c.post("/admin/users", data={"email": "new.legal@auditor.test", "role": "legal",
                                     "password": "new-password-1"})
    assert r.status_code == 302
    assert "new.legal@auditor.test" in c.get("/admin/users").get_data(as_text=True)
    assert login(app.test_client(), "new.legal@auditor.test", "new-password-1").status_code == 302
    dup = c.post("/admin/users", data={"email": "new.legal@auditor.test", "role": "legal",
                                       "password": "new-password-1"})
    assert dup.status_code == 400 and "already exists" in dup.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(app, as_role, people):
    c = as_role("admin")
    c.post(f"/admin/users/{people['sender']}/active", data={"active": "0"})
    assert login(app.test_client(), "sender").status_code == 401
    c.post(f"/admin/users/{people['admin']}/active", data={"active": "0"})
    assert c.get("/admin/users").status_code == 200  # one's own account stays active


def test_created_key_is_shown_once_and_works(app, as_role, people):
    c = as_role("admin")
    r = c.post("/admin/keys", data={"name": "crm", "user_id": str(people["sender"]),
                                    "scopes": ["consent:write", "gate:check"]})
    assert r.status_code == 201
    assert r.headers["Cache-Control"] == "no-store"
    page = r.get_data(as_text=True)
    import re

    clear = re.search(r'value="(aud_[^"]+)"', page).group(1)
    assert clear not in c.get("/admin/keys").get_data(as_text=True)
    from auditor.accounts.services import resolve_key

    with app.app_context():
        from auditor.services import db

        assert resolve_key(db(), clear).scopes == frozenset({"consent:write", "gate:check"})


def test_key_beyond_the_role_is_refused_and_revoke_works(as_role, people):
    c = as_role("admin")
    r = c.post("/admin/keys", data={"name": "too much", "user_id": str(people["sender"]), "scopes": ["admin"]})
    assert r.status_code == 400 and "cannot hold" in r.get_data(as_text=True)
    c.post("/admin/keys", data={"name": "crm", "user_id": str(people["sender"])})
    from auditor.accounts.models import ApiKey

    with c.application.app_context():
        from auditor.services import db

        key_id = db().query(ApiKey).one().id
    assert c.post(f"/admin/keys/{key_id}/revoke").status_code == 302
    assert "revoked" in c.get("/admin/keys").get_data(as_text=True)


def test_audit_log_lists_administrative_actions(as_role):
    c = as_role("admin")
    c.post("/admin/users", data={"email": "logged@auditor.test", "role": "sender", "password": "new-password-1"})
    page = c.get("/audit-log?q=user.create").get_data(as_text=True)
    assert "user.create" in page and "logged@auditor.test" in page
    assert "user.login" not in page
    assert as_role("sender").get("/audit-log").status_code == 403
    assert as_role("security").get("/audit-log").status_code == 200


def test_sender_dashboard_points_to_the_api(as_role):
    page = as_role("sender").get("/").get_data(as_text=True)
    assert "/api/docs" in page
    assert 'href="/campaigns' not in page and 'href="/admin' not in page
