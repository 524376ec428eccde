"""The domain PDF report carries the sources table, the daily DMARC chart, TLS totals and selectors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditor.dmarc.services import ingest
from tests.auditor.dmarc.conftest import GOOGLE, MAILRU
from tests.auditor.dmarc.samples import DOMAIN, google, gz, mailru, tls_report
from tests.reports.conftest import pdf_text

NOW = datetime(2026, 11, 29, tzinfo=UTC)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_domain_pdf_has_the_sources_section(dmarc_env, tmp_path, lang):
    import reports
    from auditor.monitoring.services import audit_and_record
    from auditor.reports.services import domain_data

    audit_and_record(dmarc_env.app, "domain", DOMAIN, selectors=("s1",), source="test")
    for f in (gz(google(GOOGLE)), mailru(MAILRU), tls_report()):
        ingest(dmarc_env.app, f, via="test", now=NOW)
    data = domain_data(dmarc_env.app, DOMAIN, datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date())
    assert [r["ip"] for r in data.sources["sources"]] == ["203.0.113.5", "192.0.2.10", "198.51.100.7"]
    out = tmp_path / f"d-{lang}.pdf"
    out.write_bytes(reports.domain_pdf(data, lang))
    flat = " ".join(pdf_text(out).split())
    heading, verdict = (("Sending sources", "unauthorised") if lang == "en"
                        else ("Источники отправки", "неавторизован"))
    assert flat.count(heading) == 2  # the contents and the section
    for part in ("203.0.113.5", verdict, "mail.ru"):
        assert part in flat, part
    tls = flat[flat.rindex("SMTP TLS"):]
    assert tls.split()[:12].count("120") == 1 and "3" in tls.split()[:12]
    assert ("167 messages" if lang == "en" else "167 писем") in flat
    assert "em" in flat and "dmarc-report" in flat
