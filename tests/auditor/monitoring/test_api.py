"""The domain API: audit now (live or preflight), posture with history, monitored assets, scopes."""

from __future__ import annotations

import pytest

from tests.auditor.monitoring.conftest import DOMAIN, IP, SELECTOR, zone

SECURITY_SCOPES = ["domain:read", "domain:write"]


@pytest.fixture
def api(monitoring, make_user, db_url):
    """The app on ``db_url`` with a security user (domain:read+write) and a sender (domain:read)."""
    env = monitoring(db_url)
    env.security = {"Authorization": "Bearer " + make_user("sec@auditor.test", "security", scopes=SECURITY_SCOPES,
                                                          target_app=env.app)[1]}
    env.sender = {"Authorization": "Bearer " + make_user("snd@auditor.test", "sender", scopes=["domain:read"],
                                                        target_app=env.app)[1]}
    env.client = env.app.test_client()
    return env


def test_audit_now_then_posture_with_history_and_changes(api):
    c = api.client
    r = c.post(f"/api/v1/domains/{DOMAIN}/audit", json={"selectors": [SELECTOR], "ips": [IP]}, headers=api.security)
    assert r.status_code == 200, r.get_data(as_text=True)
    first = r.json
    assert first["stored"] and not first["preflight"] and first["baseline"]
    assert first["records"]["dkim"][SELECTOR]["bits"] == 2048
    assert {f["rule_id"] for f in first["findings"]} >= {"DNSSEC-UNSIGNED"}
    assert all(f["severity"] != "block" for f in first["findings"])
    api.publish(dkim=False, dmarc="none")
    second = c.post(f"/api/v1/domains/{DOMAIN}/audit", json={"selectors": [SELECTOR], "ips": [IP]},
                    headers=api.security).json
    assert sorted(ch["text"] for ch in second["changes"]) == [
        f"DKIM selector {SELECTOR} disappeared", "DMARC policy changed from reject to none"]
    assert "DKIM-KEY-MISSING" in {f["rule_id"] for f in second["findings"]}
    assert [a["status"] for a in second["alerts"]] == ["sent"]

    r = c.get(f"/api/v1/domains/{DOMAIN}", headers=api.sender)
    assert r.status_code == 200, r.get_data(as_text=True)
    posture = r.json
    assert posture["latest"]["result_id"] == second["result_id"]
    assert posture["latest"]["summary"]["block"] >= 1
    assert [h["result_id"] for h in posture["history"]] == [second["result_id"], first["result_id"]]
    assert len(posture["history"][0]["changes"]) == 2 and posture["history"][1]["changes"] == []
    assert c.get(f"/api/v1/domains/{DOMAIN}?limit=1", headers=api.sender).json["history"][0]["seq"] == 2
    assert len(api.hook.wait_for(1)) == 1


def test_preflight_of_a_zone_text_is_audited_and_not_stored(api):
    proposed = zone(dmarc=None)
    r = api.client.post(f"/api/v1/domains/{DOMAIN}/audit", json={"zone": proposed, "selectors": [SELECTOR]},
                        headers=api.security)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["preflight"] and not r.json["stored"] and r.json["result_id"] is None
    assert "DMARC-MISSING" in {f["rule_id"] for f in r.json["findings"]}
    assert api.client.get(f"/api/v1/domains/{DOMAIN}", headers=api.sender).status_code == 404
    bad = api.client.post(f"/api/v1/domains/{DOMAIN}/audit", json={"zone": "@ IN TXT \"unterminated"},
                          headers=api.security)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


@pytest.mark.parametrize("path, body, status", [
    ("/api/v1/domains/not_a..domain/audit", {}, 422),
    (f"/api/v1/domains/{DOMAIN}/audit", {"ips": ["999.1.1.1"]}, 422),
    (f"/api/v1/domains/{DOMAIN}/audit", {"selectors": ["bad selector"]}, 422),
    (f"/api/v1/domains/{DOMAIN}/audit", {"unknown": 1}, 422),
])
def test_bad_requests_are_problem_documents(api, path, body, status):
    r = api.client.post(path, json=body, headers=api.security)
    assert r.status_code == status and r.mimetype == "application/problem+json", r.get_data(as_text=True)


def test_scopes_are_enforced(api):
    r = api.client.post(f"/api/v1/domains/{DOMAIN}/audit", json={}, headers=api.sender)
    assert r.status_code == 403
    r = api.client.post("/api/v1/monitoring/assets", json={"kind": "ip", "value": IP}, headers=api.sender)
    assert r.status_code == 403
    assert api.client.get(f"/api/v1/domains/{DOMAIN}").status_code == 401


def test_monitored_assets_add_list_remove(api):
    c = api.client
    r = c.post("/api/v1/monitoring/assets", json={"kind": "domain", "value": DOMAIN, "selectors": [SELECTOR],
                                                  "ips": [IP], "interval_minutes": 15}, headers=api.security)
    assert r.status_code == 201 and r.json["created"] and r.json["interval_minutes"] == 15
    asset_id = r.json["id"]
    r = c.post("/api/v1/monitoring/assets", json={"kind": "domain", "value": DOMAIN, "selectors": ["s2"]},
               headers=api.security)
    assert r.status_code == 201 and not r.json["created"] and r.json["selectors"] == [SELECTOR, "s2"]
    bad = c.post("/api/v1/monitoring/assets", json={"kind": "ip", "value": IP, "selectors": ["x"]},
                 headers=api.security)
    assert bad.status_code == 422
    assets = c.get("/api/v1/monitoring/assets", headers=api.sender).json["assets"]
    assert [a["id"] for a in assets] == [asset_id]
    posture = c.get(f"/api/v1/domains/{DOMAIN}", headers=api.sender).json  # monitored, not yet audited
    assert posture["monitored"]["id"] == asset_id and posture["latest"] is None and posture["history"] == []
    assert c.delete(f"/api/v1/monitoring/assets/{asset_id}", headers=api.security).status_code == 200
    assert c.delete(f"/api/v1/monitoring/assets/{asset_id}", headers=api.security).status_code == 404
    assert c.get("/api/v1/monitoring/assets", headers=api.sender).json["assets"] == []


def test_openapi_lists_the_domain_routes_with_scopes(api):
    doc = api.client.get("/api/openapi.json").json
    op = doc["paths"]["/api/v1/domains/{domain}/audit"]["post"]
    assert op["x-scope"] == "domain:write"
    assert doc["paths"]["/api/v1/domains/{domain}"]["get"]["x-scope"] == "domain:read"
    assert "AuditIn" in doc["components"]["schemas"] and "PostureOut" in doc["components"]["schemas"]


def test_a_monitored_ip_has_its_own_posture(api):
    from auditor.monitoring.scheduler import run_due

    r = api.client.post("/api/v1/monitoring/assets", json={"kind": "ip", "value": IP}, headers=api.security)
    assert r.status_code == 201
    api.publish(listed=True)
    report = run_due(api.app)
    assert [res["target"] for res in report.results] == [IP]
    posture = api.client.get(f"/api/v1/ips/{IP}", headers=api.sender).json
    assert posture["kind"] == "ip" and posture["monitored"]["value"] == IP
    assert [(b["zone"], b["status"]) for b in posture["latest"]["blocklists"]] == [("bl.test", "listed")]
    assert "BL-IP-LISTED" in {f["rule_id"] for f in posture["latest"]["findings"]}
    assert posture["history"][0]["baseline"]
    bodies = api.hook.wait_for(1)  # a listed IP at first check: a baseline alert
    assert len(bodies) == 1 and bodies[0]["json"]["event"] == "posture.baseline"
    assert api.client.get("/api/v1/ips/198.51.100.1", headers=api.sender).status_code == 404


def test_dns_findings_in_russian_with_lang_or_accept_language(api):
    from checks.catalogue import RULES

    c = api.client
    r = c.post(f"/api/v1/domains/{DOMAIN}/audit?lang=ru", json={"zone": zone(dmarc=None), "selectors": [SELECTOR]},
               headers=api.security)
    assert r.status_code == 200, r.get_data(as_text=True)
    missing = next(f for f in r.json["findings"] if f["rule_id"] == "DMARC-MISSING")
    assert missing["title"] == RULES["DMARC-MISSING"].title("ru") != RULES["DMARC-MISSING"].title("en")
    assert missing["lang"] == "ru" and missing["remedy"] == RULES["DMARC-MISSING"].fix("ru")
    live = c.post(f"/api/v1/domains/{DOMAIN}/audit", json={"selectors": [SELECTOR], "ips": [IP]}, headers=api.security)
    en = live.json["findings"]
    ru = c.get(f"/api/v1/domains/{DOMAIN}?limit=5", headers={**api.sender, "Accept-Language": "ru"}).json
    assert [f["rule_id"] for f in ru["latest"]["findings"]] == [f["rule_id"] for f in en]
    assert [f["title"] for f in ru["latest"]["findings"]] == [RULES[f["rule_id"]].title("ru") for f in en]
    assert all(f["lang"] == "ru" for f in ru["latest"]["findings"])
    plain = c.get(f"/api/v1/domains/{DOMAIN}", headers=api.sender).json
    assert [f["title"] for f in plain["latest"]["findings"]] == [f["title"] for f in en]
    assert c.post(f"/api/v1/domains/{DOMAIN}/audit?lang=xx", json={}, headers=api.security).status_code == 422
