"""UI: /delivery shows KPIs, SLA lines and the open breaches; the campaign page's delivery panel."""

from __future__ import annotations

from tests.auditor.ui.browser import DESKTOP, SCREENSHOTS, chromium, serve
from tests.auditor.ui.conftest import email_of, login
from tests.conftest import ADMIN_PASSWORD


def _client(stream, role):
    c = stream.hooks.loop.app.test_client()
    assert login(c, role).status_code == 302
    return c


def _period(stream) -> str:
    return f"from={stream.base.date().isoformat()}&to={stream.late_delivery.date().isoformat()}"


def test_delivery_page_and_campaign_panel(stream_sqlite):
    legal = _client(stream_sqlite, "legal")
    page = legal.get(f"/delivery?{_period(stream_sqlite)}").get_data(as_text=True)
    for rule in ("SLA-DELIVERY-RATE", "SLA-BOUNCE-RATE", "SLA-COMPLAINT-RATE", "SLA-UNSUBSCRIBE-LATENCY",
                 "DELIVERY-AFTER-WITHDRAWAL"):
        assert rule in page
    assert "SLA 97.00%" in page and "SLA 2.00%" in page  # the SLA lines of sg's charts
    assert "boris" not in page  # pseudonyms only
    assert "Apple Mail Privacy Protection" in page
    # the sending domain's row: its campaigns' events through every integration (zoe's unlinked one is not)
    domains = page[page.index('data-testid="sending-domains"'):]
    assert '<th scope="row">shop.example</th><td>7</td><td>4</td>' in domains and "57.14%" in domains
    assert _client(stream_sqlite, "sender").get("/delivery").status_code == 403
    ru = legal.get(f"/delivery?{_period(stream_sqlite)}", headers={"Accept-Language": "ru"})
    assert ru.status_code == 200 and "Открытые нарушения" in ru.get_data(as_text=True)
    assert "Домены отправки" in ru.get_data(as_text=True)
    panel = legal.get(f"/campaigns/{stream_sqlite.hooks.campaign_id}").get_data(as_text=True)
    assert 'data-testid="delivery-panel"' in panel and "DELIVERY-AFTER-WITHDRAWAL" in panel
    assert "b-del-late" in panel and str(stream_sqlite.boris_seq) in panel


def test_delivery_page_in_chromium(stream_sqlite):
    app = stream_sqlite.hooks.loop.app
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with serve(app) as url, chromium() as browser:
        page = browser.new_context(viewport=DESKTOP, locale="en-GB").new_page()
        page.goto(url + "/login")
        page.fill("#email", email_of("legal"))
        page.fill("#password", ADMIN_PASSWORD)
        page.click("form.card button")
        page.wait_for_url(url + "/")
        page.click("nav >> text=Delivery")
        page.goto(f"{url}/delivery?{_period(stream_sqlite)}")
        breaches = page.locator("[data-testid=breaches] li")
        assert breaches.count() >= 6
        assert "DELIVERY-AFTER-WITHDRAWAL" in page.inner_text("[data-testid=breaches]")
        assert page.locator("svg circle").count() >= 3  # one day: a point per rate chart
        page.screenshot(path=str(SCREENSHOTS / "delivery-desktop.png"), full_page=True)
        page.goto(f"{url}/campaigns/{stream_sqlite.hooks.campaign_id}")
        assert "DELIVERY-AFTER-WITHDRAWAL" in page.inner_text("[data-testid=delivery-panel]")
        page.locator("[data-testid=delivery-panel]").screenshot(path=str(SCREENSHOTS / "delivery-panel.png"))
