"""Every route by every role and key scope: the expected allow or deny, cell by cell.

The expectations are written out here on purpose; a new route fails the completeness test
until someone decides who may call it.
"""

from __future__ import annotations

import re

import pytest

from auditor.accounts.services import ALL_SCOPES, ROLE_SCOPES

ROLES = ("admin", "legal", "security", "sender")
PUBLIC = {"static", "bootstrap.static", "ui.static", "health.healthz", "health.readyz", "openapi_json",
          "api_docs", "api_docs_init", "api_docs_static", "ui.login", "ui.logout", "ui.language", "public.unsubscribe_page",
          "public.unsubscribe_one_click",
          "hooks.receive"}  # authorised by the URL token and the provider's signature

# API endpoint -> the scope it needs.
API = {
    "api.campaign_delivery": "campaign:read", "api.integration_kpis": "campaign:read",
    "api.domain_kpis": "campaign:read",
    "api.record_consents": "consent:write", "api.read_consents": "consent:read",
    "api.latest_checkpoint": "ledger:read", "api.inclusion_proof": "ledger:read",
    "api.consistency_proof": "ledger:read", "api.erase_subject": "consent:erase",
    "api.audit_domain_now": "domain:write", "api.domain_posture": "domain:read", "api.ip_posture": "domain:read",
    "api.list_assets": "domain:read", "api.add_asset": "domain:write", "api.remove_asset": "domain:write",
    "api.submit_campaign": "campaign:submit", "api.list_campaigns": "campaign:read",
    "api.get_campaign": "campaign:read", "api.review_campaign": "review:write",
    "api.revoke_approval": "review:write", "api.gate_check": "gate:check",
    "api.check_message_now": "message:check",
    "api.list_integrations": "admin", "api.campaign_audience": "gate:check",
    "api.suppression_list": "consent:read",
    "api.post_dmarc_report": "domain:write", "api.domain_sources": "domain:read",
    "api.domain_tls_reports": "domain:read", "api.domain_selectors": "domain:read",
}
# UI endpoint -> the roles that may open it (admins may open every page).
REVIEWERS = {"legal", "security"}
UI = {
    "ui.dashboard": set(ROLES), "ui.password": set(ROLES),
    "ui.admin_users": set(), "ui.admin_user_active": set(), "ui.admin_keys": set(), "ui.admin_key_revoke": set(),
    "ui.campaigns_queue": REVIEWERS, "ui.campaign": REVIEWERS, "ui.campaign_review": REVIEWERS,
    "ui.delivery": REVIEWERS,
    "ui.domains": REVIEWERS, "ui.domain": REVIEWERS, "ui.preflight": REVIEWERS,
    "ui.domain_add": {"security"}, "ui.domain_remove": {"security"}, "ui.domain_run": {"security"},
    "ui.audit_log": REVIEWERS, "ui.ledger": {"legal"}, "ui.ledger_proof": {"legal"},
    "ui.ledger_erase": {"legal"}, "ui.ledger_status": REVIEWERS, "ui.ledger_verify": REVIEWERS,
    "reports.campaign": REVIEWERS, "reports.domain": REVIEWERS, "reports.subject": {"legal"},
    "reports.period": REVIEWERS, "reports.job": REVIEWERS, "reports.job_pdf": REVIEWERS,
    "ui.admin_integrations": set(), "ui.admin_integration_remove": set(),
}
SAMPLE = {"campaign_id": "1", "key_id": "999", "user_id": "999", "asset_id": "999", "domain": "shop.example",
          "ip": "192.0.2.10", "subject": "nobody@example.org", "seq": "1", "job_id": "nojob", "token": "x",
          "provider": "sendgrid", "integration_id": "999", "name": "nosuch"}


def _path(rule) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: SAMPLE[m.group(1)], rule.rule)


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_decided_access_rule(app):
    undecided = {r.endpoint for r, _ in _routes(app)} - PUBLIC - set(API) - set(UI)
    assert not undecided, f"decide who may call: {sorted(undecided)}"
    for rule, _ in _routes(app):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in API:
            assert view.required_scope == API[rule.endpoint], rule.endpoint
        if rule.endpoint in UI:
            assert set(view.required_roles) - {"admin"} == UI[rule.endpoint] - {"admin"}, rule.endpoint


def _call(client, method, path, headers=None):
    kw = {"headers": headers or {}}
    if method in ("POST", "PUT", "PATCH"):
        kw["json"] = {}
    return client.open(path, method=method, **kw)


def test_api_keys_are_allowed_exactly_their_scope(app, make_user):
    client = app.test_client()
    keys = {}
    for scope in ALL_SCOPES:
        role = next(r for r in ("sender", "legal", "security", "admin") if scope in ROLE_SCOPES[r])
        keys[scope] = make_user(f"k-{scope.replace(':', '-')}@auditor.test", role, scopes=[scope])[1]
    cells = 0
    for rule, method in _routes(app):
        if rule.endpoint not in API:
            continue
        path, need = _path(rule), API[rule.endpoint]
        assert _call(client, method, path).status_code == 401, f"{method} {path} without a key"
        assert _call(client, method, path, {"Authorization": "Bearer aud_forged"}).status_code == 401
        for scope, key in keys.items():
            status = _call(client, method, path, {"Authorization": f"Bearer {key}"}).status_code
            if scope == need:
                assert status not in (401, 403), f"{method} {path} with {scope}: {status}"
            else:
                assert status == 403, f"{method} {path} with {scope} should be denied, got {status}"
            cells += 1
    assert cells >= len(API) * len(ALL_SCOPES)


@pytest.mark.parametrize("role", ROLES)
def test_ui_pages_by_role(app, make_user, role):
    from auditor.accounts.models import User

    uid, _ = make_user(f"{role}@auditor.test", role, key=False)
    client = app.test_client()
    with app.extensions["auditor"].sessions() as s:
        pw = s.get(User, uid).password_hash
    with client.session_transaction() as sess:
        sess["user_id"], sess["pw"] = uid, pw[-16:]
    for rule, method in _routes(app):
        if rule.endpoint not in UI:
            continue
        path = _path(rule) + ("?q=nobody@example.org" if rule.endpoint == "reports.subject" else "")
        resp = client.open(path, method=method, data={})
        allowed = role == "admin" or role in UI[rule.endpoint]
        if allowed:
            assert resp.status_code != 403, f"{role} denied {method} {path}"
            assert "/login" not in resp.headers.get("Location", ""), f"{role} sent to login from {path}"
        else:
            assert resp.status_code == 403, f"{role} reached {method} {path}: {resp.status_code}"


def test_anonymous_is_sent_to_login(client):
    for rule, method in _routes(client.application):
        if rule.endpoint in UI and method == "GET":
            resp = client.get(_path(rule))
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], rule.endpoint


def test_session_cookie_cannot_write_through_the_api(app, make_user):
    from auditor.accounts.models import User

    uid, _ = make_user("boss@auditor.test", "admin", key=False)
    client = app.test_client()
    with app.extensions["auditor"].sessions() as s:
        pw = s.get(User, uid).password_hash
    with client.session_transaction() as sess:
        sess["user_id"], sess["pw"] = uid, pw[-16:]
    assert client.post("/api/v1/consents", json={}).status_code == 401  # no CSRF-able API writes
    assert client.get("/api/v1/campaigns").status_code == 200
