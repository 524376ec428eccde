"""--discover-selectors on the domain audit (CLI and API): found selectors are audited and listed."""

from __future__ import annotations

import json

from tests.auditor.dmarc.samples import DOMAIN
from tests.conftest import Runner


def test_cli_discovers_selectors_audits_and_remembers_them(dmarc_env):
    r = Runner(dmarc_env.app).invoke(["check", "domain", DOMAIN, "--discover-selectors", "--json"])
    doc = json.loads(r.output)
    assert {"s1", "google"} <= set(doc["records"]["dkim"])
    out = dmarc_env.app.test_client().get(f"/api/v1/domains/{DOMAIN}/selectors", headers=dmarc_env.reader).json
    assert {(s["selector"], tuple(s["origins"]), s["key_bits"], s["status"]) for s in out["selectors"]} == {
        ("google", ("discovered",), 1024, "published"), ("s1", ("discovered",), 1024, "published")}


def test_api_audit_with_discovery_checks_the_found_selectors(dmarc_env):
    c = dmarc_env.app.test_client()
    r = c.post(f"/api/v1/domains/{DOMAIN}/audit", json={"discover_selectors": True}, headers=dmarc_env.headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert {"s1", "google"} <= set(r.json["records"]["dkim"])
    sels = c.get(f"/api/v1/domains/{DOMAIN}/selectors", headers=dmarc_env.reader).json["selectors"]
    assert [s["selector"] for s in sels] == ["google", "s1"]
    plain = c.post(f"/api/v1/domains/{DOMAIN}/audit", json={}, headers=dmarc_env.headers)
    assert plain.json["records"]["dkim"] == {}
