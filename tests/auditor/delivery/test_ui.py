"""UI: /delivery shows KPIs, SLA lines and the open breaches; the campaign page's delivery panel."""

from __future__ import annotations

import pytest

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
    assert legal.get("/delivery?to=0001-01-01").status_code == 200  # a hand-edited address: the last 30 days
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


def _axes(page, integration: str) -> dict[str, list[str]]:
    """Each rate chart's value-axis labels in one integration's card, by the chart's title."""
    card = page.locator("section.card", has=page.locator("h2", has_text=integration)).first
    out = {}
    for svg in card.locator("svg[aria-label]").all():
        out[svg.get_attribute("aria-label")] = [t.text_content() for t in svg.locator("text.tick").all()]
    return out


@pytest.mark.parametrize(("locale", "titles", "no_sent", "no_delivered"), [
    ("en-GB", ("Delivery rate", "Bounce rate", "Complaint rate"), "No mail was sent in this period",
     "No mail was delivered in this period"),
    ("ru-RU", ("Доля доставленных", "Доля отказов", "Доля жалоб"), "В этом периоде писем не отправлено",
     "В этом периоде ни одно письмо не доставлено")])
def test_zero_rates_are_charted_against_their_sla_not_a_100_percent_top(quiet_sqlite, locale, titles, no_sent,
                                                                       no_delivered):
    delivery, bounce, complaint = titles
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with serve(quiet_sqlite.hooks.loop.app) as url, chromium() as browser:
        page = browser.new_context(viewport=DESKTOP, locale=locale).new_page()
        page.goto(url + "/login")
        page.fill("#email", email_of("legal"))
        page.fill("#password", ADMIN_PASSWORD)
        page.click("form.card button")
        page.wait_for_url(url + "/")
        page.goto(f"{url}/delivery?{quiet_sqlite.period}")
        sg = _axes(page, "sg")
        # every day 100% delivered: 100% is a value here; nothing bounced or complained: the SLA tops the axis
        assert sg[delivery] == ["0", "25%", "50%", "75%", "100%"]
        assert sg[bounce] == ["0", "0.5%", "1.0%", "1.5%", "2.0%"]
        assert sg[complaint] == ["0", "0.025%", "0.050%", "0.075%", "0.100%"]
        card = page.locator("section.card", has=page.locator("h2", has_text="sg")).first
        assert "SLA 2.00%" in card.inner_text() and "SLA 0.10%" in card.inner_text()
        # sg2: one message sent, none delivered, no SLA: a small axis, and no complaint chart but a sentence
        sg2 = _axes(page, "sg2")
        assert sg2 == {delivery: ["0", "0.25%", "0.50%", "0.75%", "1.00%"],
                       bounce: ["0", "0.25%", "0.50%", "0.75%", "1.00%"]}
        card2 = page.locator("section.card", has=page.locator("h2", has_text="sg2"))
        assert no_delivered in card2.locator("[data-testid=no-rate]").inner_text()
        # sg3: an open and nothing sent: no charts at all
        card3 = page.locator("section.card", has=page.locator("h2", has_text="sg3"))
        assert card3.locator("svg").count() == 0
        assert no_sent in card3.locator("[data-testid=no-mail-sent]").inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"delivery-quiet-{locale[:2]}.png"), full_page=True)
