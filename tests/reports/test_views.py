"""Download routes: roles, parameters, and background rendering when a broker is configured."""

from __future__ import annotations

from datetime import UTC, datetime


def test_subject_download_is_for_legal_only_and_needs_a_query(loop):
    loop.consent("olga@example.org")
    ok = loop.client.get("/reports/subject.pdf?q=olga@example.org&lang=ru", headers=loop.h("legal"))
    assert ok.status_code == 200 and ok.data[:5] == b"%PDF-"
    assert "attachment" in ok.headers["Content-Disposition"]
    assert loop.client.get("/reports/subject.pdf?q=olga@example.org", headers=loop.h("security")).status_code == 403
    assert loop.client.get("/reports/subject.pdf", headers=loop.h("legal")).status_code == 400
    assert loop.client.get("/reports/subject.pdf?q=nobody@example.org", headers=loop.h("legal")).status_code == 404


def test_without_login_the_download_redirects_to_login(loop):
    r = loop.client.get("/reports/period.pdf?from=2026-11-01&to=2026-11-30")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_period_download_checks_dates(loop):
    today = datetime.now(UTC).date().isoformat()
    assert loop.client.get(f"/reports/period.pdf?from={today}&to={today}",
                           headers=loop.h("security")).status_code == 200
    assert loop.client.get("/reports/period.pdf?from=2026-13-01&to=2026-11-30",
                           headers=loop.h("security")).status_code == 400
    assert loop.client.get(f"/reports/period.pdf?from={today}", headers=loop.h("security")).status_code == 400


def test_with_a_broker_the_period_report_is_a_background_job_of_its_requester(make_app, make_user, dns_server,
                                                                              redis_url):
    from auditor.reports.tasks import render_report
    from tests.auditor.campaigns.loop import build_loop

    loop = build_loop(make_app, make_user, dns_server, broker_url=redis_url)
    today = datetime.now(UTC).date().isoformat()
    r = loop.client.get(f"/reports/period.pdf?from={today}&to={today}", headers=loop.h("legal"))
    assert r.status_code == 303
    status_url = r.headers["Location"]
    job_id = status_url.rsplit("/", 1)[-1]
    pending = loop.client.get(status_url, headers=loop.h("legal"))
    assert pending.status_code == 200 and pending.json["status"] == "pending"
    assert loop.client.get(status_url, headers=loop.h("security")).status_code == 404  # not theirs
    # What a worker does with the queued job (the worker itself is covered by monitoring's tests).
    assert render_report(loop.app, job_id)["status"] == "done"
    done = loop.client.get(status_url, headers=loop.h("legal")).json
    assert done["status"] == "done"
    pdf = loop.client.get(done["download"], headers=loop.h("legal"))
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
