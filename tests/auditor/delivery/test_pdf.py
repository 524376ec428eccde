"""The period PDF's delivery section: KPIs, SLA breaches and mail after a withdrawal (pdftotext)."""

from __future__ import annotations

import pytest

from tests.reports.conftest import pdf_text


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_period_pdf_has_the_delivery_section(stream_sqlite, tmp_path, lang):
    from auditor.reports.services import period_data
    from reports.render import period_pdf

    data = period_data(stream_sqlite.hooks.loop.app, stream_sqlite.base.date(), stream_sqlite.late_delivery.date())
    (sg,) = [k for k in data.delivery if k["integration"] == "sg"]
    assert sg["counts"]["delivered"] == 5
    out = tmp_path / "p.pdf"
    out.write_bytes(period_pdf(data, lang))
    flat = " ".join(pdf_text(out).split())
    if lang == "en":
        assert "Delivery and contractor SLAs" in flat and "Integration: sg" in flat
        assert "Delivered 5" in flat and "Delivery rate 62.50%" in flat and "Bounce rate 25.00%" in flat
    else:
        assert "Доставка и SLA подрядчиков" in flat and "Интеграция: sg" in flat and "Доставлено 5" in flat
    for rule in ("SLA-DELIVERY-RATE", "SLA-BOUNCE-RATE", "SLA-COMPLAINT-RATE", "SLA-UNSUBSCRIBE-LATENCY",
                 "SLA-REPORT-LATE", "DELIVERY-AFTER-WITHDRAWAL"):
        assert rule in flat
    assert "SLA 97.00%" in flat  # the SLA line drawn in the delivery-rate chart
