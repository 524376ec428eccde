"""The period PDF's delivery section: KPIs, SLA breaches and mail after a withdrawal (pdftotext)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.auditor.ui.browser import SCREENSHOTS
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


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_period_pdf_charts_zero_rates_against_their_sla(quiet_sqlite, tmp_path, lang):
    from auditor.reports.services import period_data
    from reports.render import period_pdf

    data = period_data(quiet_sqlite.hooks.loop.app, quiet_sqlite.start.date(), quiet_sqlite.end.date())
    out = tmp_path / "quiet.pdf"
    out.write_bytes(period_pdf(data, lang))
    flat = " ".join(pdf_text(out).split())
    # sg's bounce and complaint axes top at their SLA lines; sg2's (no SLA) at 1%
    for label in ("SLA 2.00%", "1.5%", "SLA 0.10%", "0.025%", "0.075%", "0.100%", "0.25%", "0.75%", "1.00%"):
        assert label in flat, label
    if lang == "en":
        assert "Bounce rate" in flat and "Complaint rate" in flat
        assert "No mail was delivered in this period: there is no complaint rate." in flat  # sg2
        assert "No mail was sent in this period: there is no rate to chart." in flat  # sg3
    else:
        assert "Доля отказов" in flat and "Доля жалоб" in flat and "Bounce rate" not in flat
        assert "За период ни одно письмо не доставлено: доли жалоб нет." in flat
        assert "За период писем не отправлено: долей для графика нет." in flat
    # sg's delivery rate was 100% every day: the only "100%" drawn, as a value
    assert len(re.findall(r"(?<![\d.])100%", flat)) == 1
    shots = SCREENSHOTS / f"period-delivery-{lang}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(out), str(shots)], check=True)
    assert list(SCREENSHOTS.glob(f"period-delivery-{lang}*.png"))
