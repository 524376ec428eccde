"""UI: /admin/integrations (admin only, URL shown once), the person page's withdrawal source,
the campaign page's audience links."""

from __future__ import annotations

from tests.auditor.ui.conftest import login
from tests.checks.providers.conftest import fixture_bytes


def _client(h, role):
    c = h.loop.app.test_client()
    assert login(c, role).status_code == 302
    return c


def test_admin_page_adds_lists_and_removes(hooks_sqlite):
    h = hooks_sqlite
    h.post("sendpulse", fixture_bytes("sendpulse.json"))
    assert _client(h, "legal").get("/admin/integrations").status_code == 403
    admin = _client(h, "admin")
    page = admin.get("/admin/integrations").get_data(as_text=True)
    assert "uni" in page and "sendpulse" in page and "6ou4ekyf8" not in page
    ru = admin.get("/admin/integrations", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Добавить интеграцию" in ru and "обработан" in ru
    r = admin.post("/admin/integrations", data={"name": "sg2", "provider": "sendpulse", "channel": "email",
                                                "purpose": "marketing", "controller": "OOO Shop"})
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    url = r.get_data(as_text=True).split('data-testid="webhook-url"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert "/hooks/sendpulse/" in url
    path = url.split("127.0.0.1:8000", 1)[1]
    assert h.client.post(path, data=fixture_bytes("sendpulse.json"), content_type="application/json").status_code == 200
    again = admin.get("/admin/integrations").get_data(as_text=True)
    assert path.rsplit("/", 1)[1] not in again  # shown once
    assert admin.post("/admin/integrations", data={"name": "sg2", "provider": "sendpulse"}).status_code == 400
    from sqlalchemy import select

    from auditor.integrations.models import Integration

    with h.loop.app.extensions["auditor"].sessions() as s:
        iid = s.scalar(select(Integration.id).where(Integration.name == "sg2"))
    assert admin.post(f"/admin/integrations/{iid}/remove").status_code == 302
    assert h.client.post(path, data=b"[]", content_type="application/json").status_code == 403


def test_person_page_shows_where_a_withdrawal_came_from(hooks_sqlite):
    h = hooks_sqlite
    h.post("sendgrid", fixture_bytes("sendgrid.json"))
    page = _client(h, "legal").get("/ledger?q=vera@example.org").get_data(as_text=True)
    assert "withdrawal-source" in page and "sendgrid" in page and "AmQTsFE1UHqsa8Jk7c3kCA==" in page
    assert "integration sg" in page and "Nov 23, 2026, 9:10:00\u202fAM UTC" in page


def test_campaign_page_links_the_audience_export(hooks_sqlite):
    h = hooks_sqlite
    page = _client(h, "legal").get(f"/campaigns/{h.campaign_id}").get_data(as_text=True)
    assert f"/api/v1/campaigns/{h.campaign_id}/audience?format=csv" in page
    sender = _client(h, "sender")
    r = sender.get(f"/api/v1/campaigns/{h.campaign_id}/audience?format=csv")
    assert r.status_code == 200 and "anna@example.org" in r.get_data(as_text=True)
