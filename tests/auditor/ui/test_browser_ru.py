"""Every main page in Russian, in Chromium: screenshots, and no English sentence in the page text."""

from __future__ import annotations

import pytest

from tests.auditor.ui.browser import DESKTOP, SCREENSHOTS
from tests.auditor.ui.test_browser import MAIN_PAGES, browser, open_as, site  # noqa: F401
from tests.reports.test_russian import english_sentences

pytestmark = pytest.mark.browser

# What the pages show as data, not as sentences: stored values, record text, evidence, user input.
STRIP = ("pre", "code", "time", "[lang=en]", "iframe", "input", "textarea", ".text-break.small")
SEEDED = ("Spring sale", "Winter clearance", "Bad links")


def test_every_main_page_reads_in_russian(browser, site):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_as(browser, site, "admin", viewport=DESKTOP, locale="ru-RU")
    found = {}
    for name, path in MAIN_PAGES:
        resp = page.goto(site.url + path.format(c=site.campaigns["Bad links"]))
        assert resp.status == 200, path
        assert page.get_attribute("html", "lang") == "ru"
        page.screenshot(path=str(SCREENSHOTS / f"ru-{name}-desktop.png"), full_page=True)
        for selector in STRIP:
            page.eval_on_selector_all(f"main {selector}", "els => els.forEach(e => e.remove())")
        text = page.inner_text("main")
        runs = english_sentences(text, SEEDED)
        if runs:
            found[name] = runs
    assert found == {}
    page.goto(site.url + f"/campaigns/{site.campaigns['Bad links']}")
    main = page.inner_text("main")
    assert "ст. 18.1 38-ФЗ" in main and "38-FZ" not in main
