"""KPIs per sending domain: the events of the campaigns sending from it, through API and CLI, both engines."""

from __future__ import annotations

import json

from tests.auditor.delivery.test_cli import run
from tests.auditor.delivery.test_kpis import CAMPAIGN_COUNTS


def test_domain_kpis_count_its_campaigns_events_only(stream):
    day, last = stream.base.date().isoformat(), stream.late_delivery.date().isoformat()
    r = stream.get(f"/api/v1/domains/shop.example/kpis?from={day}&to={last}")
    assert r.status_code == 200, r.get_data(as_text=True)
    d = r.json
    assert d["domain"] == "shop.example" and d["from"] == day and d["to"] == last
    # per domain a message is the person and the provider's message id (as per integration): boris's
    # second message counts; zoe's delivery carries no campaign, so it is the integration's only
    assert d["counts"] == {**CAMPAIGN_COUNTS, "sent": 7, "delivered": 4}
    assert d["rates"]["delivery"] == 0.571429 and d["rates"]["complaint"] == 0.25
    assert d["delivery_seconds"] == {"p50": 120.0, "p95": 600.0}
    assert sum(x["counts"]["delivered"] for x in d["days"]) == 4
    assert [x["day"] for x in d["days"]] == sorted({day, last})
    (f,) = d["findings"]
    assert f["rule_id"] == "DELIVERY-AFTER-WITHDRAWAL" and f["evidence"]["provider_event_id"] == "b-del-late"
    # the name is read as a domain: case and a final dot do not matter
    assert stream.get(f"/api/v1/domains/Shop.Example./kpis?from={day}&to={last}").json["counts"] == d["counts"]
    # a period without events: zeros, no rates
    empty = stream.get("/api/v1/domains/shop.example/kpis?from=2020-01-01&to=2020-01-31").json
    assert empty["counts"]["sent"] == 0 and empty["rates"]["delivery"] is None and empty["days"] == []


def test_domain_kpis_bad_input(stream_sqlite):
    r = stream_sqlite.get("/api/v1/domains/nobody.example/kpis")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert "nobody.example" in r.json["detail"]
    r = stream_sqlite.get("/api/v1/domains/shop.example/kpis?from=2026-12-01&to=2026-11-01")
    assert r.status_code in (400, 422) and r.mimetype == "application/problem+json"
    r = stream_sqlite.hooks.client.get("/api/v1/domains/shop.example/kpis")
    assert r.status_code == 401


def test_kpis_cli_per_domain(stream_sqlite):
    app = stream_sqlite.hooks.loop.app
    day, last = stream_sqlite.base.date().isoformat(), stream_sqlite.late_delivery.date().isoformat()
    r = run(app, ["kpis", "--domain", "shop.example", "--from", day, "--to", last, "--json"])
    assert r.exit_code == 0, r.output
    (k,) = json.loads(r.output)["domains"]
    api = stream_sqlite.get(f"/api/v1/domains/shop.example/kpis?from={day}&to={last}").json
    assert k["counts"] == api["counts"] and k["days"] == api["days"] and k["counts"]["sent"] == 7
    r = run(app, ["kpis", "--domain", "shop.example", "--from", day, "--to", last])
    line = next(x for x in r.output.splitlines() if x.startswith("shop.example "))
    assert r.output.startswith("domain ") and "57.14%" in line and "DELIVERY-AFTER-WITHDRAWAL" in line
    for args, text in ((["kpis", "--domain", "nobody.example"], "no email campaign sends from 'nobody.example'"),
                       (["kpis", "--domain", "shop.example", "--integration", "sg"], "one or the other")):
        r = run(app, args)
        assert r.exit_code == 2 and text in r.output, r.output
