"""A Russian reviewer reads findings in Russian: details by msgid, citations, subjects, decisions."""

from __future__ import annotations

import json

import pytest

from checks.catalogue import finding
from checks.i18n import msg


def _findings() -> list[dict]:
    """Findings as the campaigns service stores them (``Finding.to_dict()``), one row from before msgids."""
    return [
        finding("MSG-SIZE-CLIPPED", msg("HTML is {size} bytes (Gmail clips past {limit})", size=150000,
                                        limit=102400), evidence={"html_bytes": 150000}).to_dict(),
        finding("MSG-HEADER-INVALID", msg("{count} Date headers", count=2), subject="recipient:ab12").to_dict(),
        {"rule_id": "RU-38FZ-18.1-MARKING", "severity": "warn", "title": "x", "detail": "an old English detail",
         "citation": "38-FZ art. 18.1", "subject": "campaign", "evidence": {}},
    ]


def test_campaign_page_renders_details_citations_and_subjects_in_russian(as_role, make_campaign):
    cid = make_campaign(findings=_findings())
    ru = as_role("legal").get(f"/campaigns/{cid}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "HTML занимает 150\xa0000 байт (Gmail обрезает после 102\xa0400)" in ru
    assert "2 заголовка Date" in ru and "получатель: ab12" in ru
    assert "ст. 18.1 38-ФЗ" in ru and "38-FZ art. 18.1" not in ru
    assert "размер HTML, байт" in ru  # evidence keys as words
    assert "an old English detail" in ru  # a row stored before msgids keeps its text
    en = as_role("legal").get(f"/campaigns/{cid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "HTML is 150000 bytes (Gmail clips past 102400)" in en and "38-FZ art. 18.1" in en


def test_a_review_decision_reads_as_done_not_as_an_order(app, as_role, make_campaign):
    cid = make_campaign()
    c = as_role("legal")
    assert c.post(f"/campaigns/{cid}/review", data={"decision": "approve"}).status_code in (302, 303)
    page = c.get(f"/campaigns/{cid}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "одобрено" in page and "одобрить</strong>" not in page
    queue = c.get("/campaigns", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Подана на проверку" in queue and ">Отправлена<" not in queue


@pytest.mark.usefixtures("db_url")
def test_stored_findings_keep_their_msgid_on_both_databases(make_app, make_user, db_url):
    """Through the JSON column and back, on SQLite and PostgreSQL."""
    from auditor.campaigns.models import Campaign
    from auditor.db import transaction
    from auditor.ui.findings import shown

    app = make_app(database_url=db_url)
    uid, _ = make_user("s@example.org", "sender", key=False, target_app=app)
    sessions = app.extensions["auditor"].sessions
    with transaction(sessions) as s:
        c = Campaign(name="n", channel="email", purpose="marketing", document={}, content_sha256="ab" * 32,
                     status="blocked", findings=_findings(), recipient_count=0, allowed_count=0,
                     suppressed_count=0, reasons={}, warnings={}, submitter_id=uid, submitted_by="test")
        s.add(c)
        s.flush()
        cid = c.id
    with transaction(sessions) as s:
        stored = s.get(Campaign, cid).findings
    assert stored[0]["detail_msgid"] == "HTML is {size} bytes (Gmail clips past {limit})"
    assert json.loads(json.dumps(stored)) == _findings()
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert shown(stored[1])["detail"] == "2 заголовка Date"
        assert shown(stored[2])["detail"] == "an old English detail"


def test_audit_log_names_actions_and_fields_in_russian(as_role):
    c = as_role("admin")
    assert c.post("/admin/users", data={"email": "new@example.org", "role": "legal",
                                        "password": "a long enough passphrase 1"}).status_code in (200, 302, 303)
    ru = c.get("/audit-log", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "создание пользователя" in ru and "<code class=\"small\">user.create</code>" in ru
    en = c.get("/audit-log", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<strong>user.create</strong>" not in en and "user.create" in en
