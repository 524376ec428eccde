"""Delivery KPIs through the webhooks and the API: every figure exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from tests.auditor.delivery.conftest import sg

CAMPAIGN_COUNTS = {"sent": 6, "delivered": 3, "bounced_hard": 1, "bounced_soft": 1, "deferred": 1, "dropped": 1,
                   "complaints": 1, "unsubscribes": 1, "opened": 2, "clicked": 1}


def test_campaign_figures_are_exact_despite_late_duplicated_and_out_of_order_events(stream):
    r = stream.get(f"/api/v1/campaigns/{stream.hooks.campaign_id}/delivery")
    assert r.status_code == 200, r.get_data(as_text=True)
    d = r.json
    # anna's two "delivered" and boris's second message are one message each per campaign; zoe is unlinked
    assert d["counts"] == CAMPAIGN_COUNTS
    assert d["rates"] == {"delivery": 0.5, "bounce": 0.333333, "complaint": 0.333333, "unsubscribe": 0.333333,
                          "open": 0.333333, "click": 0.166667}
    # processed -> first delivered: anna 60 s, boris 120 s, vera 600 s (nearest rank)
    assert d["delivery_seconds"] == {"p50": 120.0, "p95": 600.0}
    assert d["opens"] == {"machine": 1, "reliable": False}  # vera's open is Apple MPP's
    assert d["first_event_at"] == stream.base.isoformat()
    assert d["last_event_at"] == stream.late_delivery.isoformat()


def test_delivery_after_withdrawal_is_found_once_with_its_evidence(stream):
    d = stream.get(f"/api/v1/campaigns/{stream.hooks.campaign_id}/delivery").json
    (f,) = d["findings"]  # boris's delivery before his unsubscribe and vera's late-arriving one are fine
    assert f["rule_id"] == "DELIVERY-AFTER-WITHDRAWAL" and f["severity"] == "block"
    ev = f["evidence"]
    assert ev["withdrawal_seq"] == stream.boris_seq and ev["provider_event_id"] == "b-del-late"
    assert ev["integration"] == "sg" and ev["delivered_at"] == stream.late_delivery.isoformat()
    assert ev["inclusion_proof"] == f"/api/v1/ledger/proof/inclusion?seq={stream.boris_seq}"
    assert f["subject"] == f"recipient:{ev['pseudonym']}" and "boris" not in json.dumps(f)
    # the same delivery reported again (a provider retry with a new id) is still one finding
    again = sg("boris@example.org", "delivered", stream.late_delivery, "b-del-late-again", "m-boris-2",
               stream.hooks.campaign_id)
    assert stream.hooks.post("sendgrid", json.dumps([again]).encode()).status_code == 200
    d = stream.get(f"/api/v1/campaigns/{stream.hooks.campaign_id}/delivery").json
    assert [f["rule_id"] for f in d["findings"]] == ["DELIVERY-AFTER-WITHDRAWAL"]


def test_integration_kpis_per_day_with_sla_breaches(stream):
    day = stream.base.date().isoformat()
    last = stream.late_delivery.date().isoformat()
    r = stream.get(f"/api/v1/integrations/sg/kpis?from={day}&to={last}")
    assert r.status_code == 200, r.get_data(as_text=True)
    k = r.json
    # per integration a message is the person and the provider's message id: boris's second counts, zoe too
    assert k["counts"] == {**CAMPAIGN_COUNTS, "sent": 8, "delivered": 5}
    assert k["rates"]["delivery"] == 0.625 and k["rates"]["bounce"] == 0.25 and k["rates"]["complaint"] == 0.2
    assert k["delivery_seconds"] == {"p50": 120.0, "p95": 600.0}
    assert sum(x["counts"]["delivered"] for x in k["days"]) == 5
    assert [x["day"] for x in k["days"]] == sorted({day, last})
    rules = {f["rule_id"]: f for f in k["findings"]}
    assert set(rules) == {"SLA-DELIVERY-RATE", "SLA-BOUNCE-RATE", "SLA-COMPLAINT-RATE", "SLA-UNSUBSCRIBE-LATENCY",
                          "SLA-REPORT-LATE", "DELIVERY-AFTER-WITHDRAWAL"}
    assert rules["SLA-DELIVERY-RATE"]["evidence"]["rate"] == 0.625
    assert rules["SLA-DELIVERY-RATE"]["evidence"]["limit"] == 0.97
    lat = rules["SLA-UNSUBSCRIBE-LATENCY"]["evidence"]
    assert lat["late"] == 1 and 1.8 < lat["worst_hours"] < 2.1  # boris: unsubscribe to the late delivery
    # every event but the late delivery (and the replayed one it kept) arrived over 1 h after it happened
    assert rules["SLA-REPORT-LATE"]["evidence"]["late"] == stream.hooks.count("delivery_events") - 1
    assert rules["SLA-REPORT-LATE"]["severity"] == "info"


def test_a_period_without_the_events_and_an_integration_within_its_sla(stream_sqlite):
    k = stream_sqlite.get("/api/v1/integrations/sg/kpis?from=2020-01-01&to=2020-01-31").json
    assert k["counts"]["sent"] == 0 and k["rates"]["delivery"] is None and k["findings"] == []
    assert stream_sqlite.get("/api/v1/integrations/uni/kpis").json["findings"] == []
    r = stream_sqlite.get("/api/v1/integrations/nope/kpis")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = stream_sqlite.get("/api/v1/integrations/sg/kpis?from=2026-12-01&to=2026-11-01")
    assert r.status_code in (400, 422) and r.mimetype == "application/problem+json"
    for query in ("to=0001-01-01", "from=0001-01-01&to=0001-01-02"):  # 30 days before year 1: no such date
        r = stream_sqlite.get(f"/api/v1/domains/shop.example/kpis?{query}")
        assert r.status_code == 422 and "1970-01-01" in r.json["errors"][0]["msg"], r.get_data(as_text=True)
    assert stream_sqlite.get("/api/v1/campaigns/999/delivery").status_code == 404


def test_mailchimp_events_link_by_the_documents_esp_campaign_ref(stream_sqlite):
    h = stream_sqlite.hooks
    cid, _token = h.loop.approved(["anna@example.org"], esp={"integration": "mc", "campaign_ref": "42b0d1c7a9"},
                                  stats={"spam_rate": 0.0})  # else the measured rate blocks it
    form = ("type=unsubscribe&fired_at=2026-11-30+09%3A30%3A00&data%5Baction%5D=unsub&data%5Breason%5D=manual"
            "&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=anna%40example.org"
            "&data%5Bcampaign_id%5D=42b0d1c7a9")
    assert h.post("mailchimp", form.encode()).status_code == 200
    d = stream_sqlite.get(f"/api/v1/campaigns/{cid}/delivery").json
    assert d["counts"]["unsubscribes"] == 1 and d["counts"]["sent"] == 0
    # the first campaign is not credited with it
    d1 = stream_sqlite.get(f"/api/v1/campaigns/{h.campaign_id}/delivery").json
    assert d1["counts"]["unsubscribes"] == 1


def test_a_soft_bounce_the_provider_retried_into_a_delivery_is_not_a_bounce(stream):
    """Petr's message soft-bounced ("blocked", 4.x) at 23:59:30 and was delivered on the retry after
    midnight; the delivery arrives first. Over both days it is a delivery, not a bounce (the SLA's
    bounce rate must not breach on it); each day alone still shows what happened that day."""
    h, cid = stream.hooks, stream.hooks.campaign_id
    night = datetime.combine(stream.base.date() - timedelta(days=3), time(23, 59, 30), UTC)
    retry = [sg("petr@example.org", "delivered", night + timedelta(seconds=90), "p-del", "m-petr", cid),
             sg("petr@example.org", "processed", night - timedelta(seconds=20), "p-proc", "m-petr", cid)]
    soft = [sg("petr@example.org", "bounce", night, "p-soft", "m-petr", cid, type="blocked", status="4.0.0",
               reason="421 4.7.0 Try again later")]
    for batch in (retry, soft):
        assert h.post("sendgrid", json.dumps(batch).encode()).status_code == 200
    d = stream.get(f"/api/v1/campaigns/{cid}/delivery").json
    assert d["counts"] == {**CAMPAIGN_COUNTS, "sent": 7, "delivered": 4}  # dina's unresolved soft bounce only
    first, second = night.date().isoformat(), (night.date() + timedelta(days=1)).isoformat()
    k = stream.get(f"/api/v1/integrations/sg/kpis?from={first}&to={second}").json
    assert k["counts"]["bounced_soft"] == 0 and k["counts"]["delivered"] == 1 and k["rates"]["bounce"] == 0.0
    assert "SLA-BOUNCE-RATE" not in {f["rule_id"] for f in k["findings"]}
    assert k["delivery_seconds"] == {"p50": 110.0, "p95": 110.0}  # processed 23:59:10 -> delivered 00:01:00
    assert [(x["day"], x["counts"]["bounced_soft"], x["counts"]["delivered"]) for x in k["days"]] == [
        (first, 1, 0), (second, 0, 1)]
    # the second day alone: the delivery, timed from the submission the day before
    k = stream.get(f"/api/v1/integrations/sg/kpis?from={second}&to={second}").json
    assert k["counts"]["bounced_soft"] == 0 and k["delivery_seconds"]["p50"] == 110.0
    # the first day alone: a soft bounce, not delivered that day
    k = stream.get(f"/api/v1/integrations/sg/kpis?from={first}&to={first}").json
    assert k["counts"]["bounced_soft"] == 1 and k["counts"]["delivered"] == 0 and k["rates"]["bounce"] == 1.0
