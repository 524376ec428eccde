"""The API's zone preflight refuses what is not the domain's zone with problem+json, naming the line."""

from __future__ import annotations

import pytest

from tests.checks.conftest import DOMAIN, zone


@pytest.fixture
def api(make_app, make_user, dns_server, sqlite_url):
    app = make_app(database_url=sqlite_url, dns_nameservers=dns_server(zone()).nameserver, dns_timeout=1.0)
    key = make_user("sec@auditor.test", "security", scopes=["domain:read", "domain:write"], target_app=app)[1]
    return app.test_client(), {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the zone file is empty"),
    ("; nothing\n\n", "the zone file is empty"),
    ('$ORIGIN other.test.\n@ IN TXT "v=spf1 -all"\n', "line 1: $ORIGIN other.test. is not example.test"),
    ('@ IN TXT "v=spf1 -all"\n@ IN TXTT "x"\n', "line 2: unknown rdatatype 'TXTT'"),
])
def test_refused_zone_is_problem_json_not_an_empty_audit(api, text: str, expected: str) -> None:
    client, headers = api
    r = client.post(f"/api/v1/domains/{DOMAIN}/audit", json={"zone": text}, headers=headers)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert expected in r.get_data(as_text=True)
