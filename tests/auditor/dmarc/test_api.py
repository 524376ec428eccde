"""POST /api/v1/dmarc/reports and the sources, TLS and selectors views, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from auditor.dmarc.models import DmarcRecord, DmarcReport
from tests.auditor.dmarc.conftest import GOOGLE, MICROSOFT, five_receivers
from tests.auditor.dmarc.samples import (
    DOMAIN,
    as_email,
    google,
    gz,
    microsoft,
    tls_report,
)
from tests.checks.test_dmarc_reports import BOMB

PERIOD = "from=2026-11-28&to=2026-11-28"
EXPECTED = [
    {"ip": "203.0.113.5", "ptr": None, "messages": 7, "spf_aligned": 0, "dkim_aligned": 0, "dmarc_pass": 0,
     "selectors": [], "reporters": ["google.com", "mail.ru"], "verdict": "unauthorised"},
    {"ip": "209.85.220.41", "ptr": "mail-sor-f41.google.com", "messages": 5, "spf_aligned": 0, "dkim_aligned": 5,
     "dmarc_pass": 5, "selectors": ["s1"], "reporters": ["Yandex"], "verdict": "forwarded"},
    {"ip": "192.0.2.10", "ptr": "mail.shop.example", "messages": 180, "spf_aligned": 180, "dkim_aligned": 180,
     "dmarc_pass": 180, "selectors": ["s1"], "reporters": ["Enterprise Outlook", "Yahoo", "google.com"],
     "verdict": "authorised"},
    {"ip": "192.0.2.11", "ptr": "mx2.shop.example", "messages": 100, "spf_aligned": 90, "dkim_aligned": 90,
     "dmarc_pass": 90, "selectors": ["google"], "reporters": ["Enterprise Outlook"], "verdict": "authorised"},
    {"ip": "198.51.100.7", "ptr": "o1.ptr1234.sendgrid.net", "messages": 60, "spf_aligned": 0, "dkim_aligned": 60,
     "dmarc_pass": 60, "selectors": ["em"], "reporters": ["google.com", "mail.ru"], "verdict": "authorised"},
]


def _ingest_all(post):
    return [post(f) for f in five_receivers().values()]


def test_reports_from_five_receivers_make_the_sources_table(dmarc_env, post):
    answers = _ingest_all(post)
    assert [r.status_code for r in answers] == [201] * 5, [r.get_data(as_text=True) for r in answers]
    assert [r.json["org_name"] for r in answers] == ["google.com", "Yahoo", "mail.ru", "Yandex", "Enterprise Outlook"]
    assert answers[0].json | {"findings": []} == {
        "report_id": "4283710253915706374", "kind": "aggregate", "org_name": "google.com", "domain": DOMAIN,
        "begin": "2026-11-28T00:00:00+00:00", "end": "2026-11-28T23:59:59+00:00", "records": 3, "findings": []}
    c = dmarc_env.app.test_client()
    r = c.get(f"/api/v1/domains/{DOMAIN}/sources?{PERIOD}", headers=dmarc_env.reader)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["sources"] == EXPECTED
    assert (r.json["domain"], r.json["from"], r.json["to"]) == (DOMAIN, "2026-11-28", "2026-11-28")
    assert sorted((f["rule_id"], f["evidence"]["ip"]) for f in r.json["findings"]) == [
        ("DMARC-ALIGNMENT-LOW", "192.0.2.11"), ("DMARC-SOURCE-UNAUTHORISED", "203.0.113.5")]
    # Another period sees nothing.
    empty = c.get(f"/api/v1/domains/{DOMAIN}/sources?from=2026-11-01&to=2026-11-27", headers=dmarc_env.reader)
    assert empty.json["sources"] == [] and empty.json["findings"] == []


def test_same_reporter_and_report_id_is_not_counted_twice(dmarc_env, post):
    first = post(gz(google(GOOGLE)))
    again = post(as_email(gz(google(GOOGLE)), "again.xml.gz"))  # the same report in another container
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["report_id"] == first.json["report_id"]
    other = post(gz(google(GOOGLE, report_id="999")))  # the next day's report of the same reporter
    assert other.status_code == 201
    r = dmarc_env.app.test_client().get(f"/api/v1/domains/{DOMAIN}/sources?{PERIOD}", headers=dmarc_env.reader)
    assert {s["ip"]: s["messages"] for s in r.json["sources"]}["192.0.2.10"] == 200
    with dmarc_env.app.extensions["auditor"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(DmarcReport)) == 2
        assert s.scalar(select(func.count()).select_from(DmarcRecord)) == 6


def test_hostile_and_non_report_bodies_are_refused_and_nothing_is_stored(dmarc_env, post):
    for body in (BOMB, gz(BOMB), b"<feedback>" + b"<a>" * 40 + b"</a>" * 40 + b"</feedback>",
                 google(GOOGLE, begin=2_000_000_000, end=2_000_003_600), b"hello"):
        r = post(body)
        assert r.status_code == 422 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
        assert r.json["title"] == "Not a report" and r.json["detail"]
    with dmarc_env.app.extensions["auditor"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(DmarcReport)) == 0


def test_post_needs_domain_write(dmarc_env, post):
    assert post(gz(google(GOOGLE)), dmarc_env.reader).status_code == 403
    assert post(gz(google(GOOGLE)), {}).status_code == 401


def test_tls_reports_and_their_finding(dmarc_env, post):
    assert post(gz(tls_report())).status_code == 201
    assert post(tls_report(org="Microsoft Corporation", report_id="ms-1", failed=0)).status_code == 201
    assert post(gz(tls_report())).status_code == 200
    r = dmarc_env.app.test_client().get(f"/api/v1/domains/{DOMAIN}/tls-reports?{PERIOD}", headers=dmarc_env.reader)
    assert r.status_code == 200
    (p,) = r.json["policies"]
    assert (p["policy_type"], p["policy_domain"], p["successful"], p["failed"]) == ("sts", DOMAIN, 240, 3)
    assert [d["result_type"] for d in p["failure_details"]] == ["certificate-expired"]
    assert [f["rule_id"] for f in r.json["findings"]] == ["TLSRPT-FAILURES"]


def test_period_and_domain_are_validated(dmarc_env):
    c = dmarc_env.app.test_client()
    for q in ("from=2026-11-29&to=2026-11-28", "from=yesterday", "since=2026-11-01", "to=0001-01-02"):
        r = c.get(f"/api/v1/domains/{DOMAIN}/sources?{q}", headers=dmarc_env.reader)
        assert r.status_code == 422 and r.mimetype == "application/problem+json", q
    assert c.get("/api/v1/domains/not_a_domain/sources", headers=dmarc_env.reader).status_code == 422


def test_selectors_learned_from_reports_join_monitoring(dmarc_env, post):
    from auditor.db import transaction
    from auditor.monitoring.services import add_asset

    with transaction(dmarc_env.app.extensions["auditor"].sessions) as s:
        add_asset(s, "domain", DOMAIN, selectors=["s1"])
    r = post(gz(microsoft(MICROSOFT)))
    assert [(f["rule_id"], f["evidence"]["selector"]) for f in r.json["findings"]] == [
        ("DKIM-SELECTOR-LEARNED", "google")]
    out = dmarc_env.app.test_client().get(f"/api/v1/domains/{DOMAIN}/selectors", headers=dmarc_env.reader).json
    got = {s["selector"]: s["origins"] for s in out["selectors"]}
    assert got == {"google": ["dmarc-report"], "s1": ["configured", "dmarc-report"]}
    with dmarc_env.app.extensions["auditor"].sessions() as s:
        from auditor.monitoring.models import MonitoredAsset

        assert s.scalars(select(MonitoredAsset.selectors)).one() == ["s1", "google"]
