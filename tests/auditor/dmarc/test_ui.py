"""The domain page shows the sources table (unauthorised first), the daily DMARC chart and the selectors."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from auditor.dmarc.services import ingest
from tests.auditor.dmarc.conftest import GOOGLE, MAILRU
from tests.auditor.dmarc.samples import DOMAIN, google, gz, mailru, tls_report
from tests.auditor.ui.conftest import as_role, login, people  # noqa: F401 - fixtures

NOW = datetime(2026, 11, 29, tzinfo=UTC)
PERIOD = "from=2026-11-01&to=2026-11-30"


def test_domain_page_lists_sources_unauthorised_first_with_chart_and_selectors(app, as_role):  # noqa: F811
    for f in (gz(google(GOOGLE)), mailru(MAILRU), tls_report()):
        ingest(app, f, via="test", now=NOW)
    page = as_role("security").get(f"/domains/{DOMAIN}?sort=verdict&{PERIOD}").get_data(as_text=True)
    table = page[page.index('id="sources"'):page.index("</table>", page.index('id="sources"'))]
    ips = re.findall(r'<td class="text-break">([0-9.]+)</td>', table)
    assert ips == ["203.0.113.5", "192.0.2.10", "198.51.100.7"]
    assert "unauthorised" in table.split("203.0.113.5")[1].split("</tr>")[0]
    assert page.count("<svg") >= 1 and "DMARC pass" in page
    assert "167 messages in DMARC aggregate reports" in page  # Google 144 + Mail.ru 23
    assert re.search(r"<strong>em</strong> — dmarc-report", page) and re.search(r"<strong>s1</strong>", page)
    assert "120 successful, 3 failed sessions" in page
    by_messages = as_role("security").get(f"/domains/{DOMAIN}?sort=messages&{PERIOD}").get_data(as_text=True)
    ips = re.findall(r'<td class="text-break">([0-9.]+)</td>', by_messages)
    assert ips == ["192.0.2.10", "198.51.100.7", "203.0.113.5"]
    assert "sort=ip&amp;from=2026-11-01&amp;to=2026-11-30#sources" in by_messages


def test_domain_page_in_russian(app, as_role):  # noqa: F811
    ingest(app, gz(google(GOOGLE)), via="test", now=NOW)
    c = as_role("security")
    page = c.get(f"/domains/{DOMAIN}?{PERIOD}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Источники отправки" in page and "неавторизован" in page
