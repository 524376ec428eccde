"""The domain page's sources section in Chromium: fits a phone, sorts, shows the chart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditor.dmarc.services import ingest
from tests.auditor.dmarc.conftest import GOOGLE, MAILRU
from tests.auditor.dmarc.samples import DOMAIN, google, gz, mailru
from tests.auditor.ui.browser import DESKTOP, PHONE, SCREENSHOTS
from tests.auditor.ui.test_browser import _no_horizontal_overflow, browser, open_as, site  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_sources_section_fits_and_sorts(browser, site, size):  # noqa: F811
    for f in (gz(google(GOOGLE)), mailru(MAILRU)):
        ingest(site.app, f, via="test", now=datetime(2026, 11, 29, tzinfo=UTC))
    page = open_as(browser, site, "security", viewport=DESKTOP if size == "desktop" else PHONE)
    page.goto(site.url + f"/domains/{DOMAIN}?from=2026-11-01&to=2026-11-30")
    first = page.locator("#sources tbody tr").first.inner_text()
    assert "203.0.113.5" in first and "unauthorised" in first
    assert page.locator("figure svg").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"domain-sources-{size}.png"), full_page=True)
    assert _no_horizontal_overflow(page), f"the sources section overflows at {size}"
    page.click("#sources thead a:has-text('Messages')")
    assert "192.0.2.10" in page.locator("#sources tbody tr").first.inner_text()
