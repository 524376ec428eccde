"""The rate charts' value axis: it tops at what the data or the SLA line reach, never at an unreached 100%."""

from __future__ import annotations

import re

import pytest

from reports.charts import delivery_charts, line_chart, percent_text, value_axis

HEIGHT, TOP_PAD, BOTTOM = 150, 20, 18  # line_chart's defaults


def ticks(svg: str) -> list[str]:
    """The value axis's labels, bottom to top."""
    return re.findall(r'class="tick">([^<]+)</text>', svg)


def point_heights(svg: str) -> list[float]:
    """Each point's height above the axis as a share of the plot (0 = on the axis, 1 = at the top)."""
    plot = HEIGHT - TOP_PAD - BOTTOM
    return [round(1 - (float(cy) - TOP_PAD) / plot, 3) for cy in re.findall(r'<circle [^>]*cy="([\d.]+)"', svg)]


def sla_line_y(svg: str) -> float:
    (y,) = re.findall(r'<line x1="48" y1="([\d.]+)"[^>]*stroke-dasharray', svg)  # the line across the plot
    return float(y)


def test_an_all_zero_rate_tops_at_its_sla_line_and_shows_no_100_percent():
    svg = line_chart([("11-01", 0.0), ("11-02", 0.0), ("11-03", 0.0)], limit=0.001, label="Complaint rate")
    assert ticks(svg) == ["0", "0.025%", "0.050%", "0.075%", "0.100%"]
    assert "100%" not in svg.replace("0.100%", "")
    assert sla_line_y(svg) == TOP_PAD  # the SLA line is the top of the axis
    assert "SLA 0.10%" in svg
    assert point_heights(svg) == [0.0, 0.0, 0.0]


def test_an_all_zero_rate_without_sla_tops_at_one_percent():
    svg = line_chart([("11-01", 0.0), ("11-02", 0.0)], label="Bounce rate")
    assert ticks(svg) == ["0", "0.25%", "0.50%", "0.75%", "1.00%"]
    assert "SLA" not in svg and "100%" not in svg


def test_a_rate_no_day_has_draws_no_chart():
    assert line_chart([("11-01", None), ("11-02", None)], limit=0.001) == ""
    assert line_chart([]) == ""


def test_a_tiny_complaint_rate_is_read_against_its_sla_not_squashed_at_the_bottom():
    svg = line_chart([("11-01", 0.0003), ("11-02", 0.0), ("11-03", None)], limit=0.001)
    assert ticks(svg) == ["0", "0.025%", "0.050%", "0.075%", "0.100%"]
    assert point_heights(svg) == [0.3, 0.0]  # 0.03% is three tenths of the way up to the 0.1% SLA
    # without an SLA the top is the highest value itself
    alone = line_chart([("11-01", 0.0003), ("11-02", 0.0001)])
    assert ticks(alone) == ["0", "0.01%", "0.02%", "0.03%"] and point_heights(alone) == [1.0, 0.333]


def test_normal_rates_get_round_ticks_up_to_the_highest_value_or_line():
    delivery = line_chart([("11-01", 0.625), ("11-02", 0.99)], limit=0.97)
    assert ticks(delivery) == ["0", "25%", "50%", "75%", "99.0%"]  # the top is the 99% point, not 100%
    assert point_heights(delivery) == [round(0.625 / 0.99, 3), 1.0]
    assert "SLA 97.00%" in delivery
    bounce = line_chart([("11-01", 0.25)], limit=0.02)
    assert ticks(bounce) == ["0", "10%", "20%", "25.0%"] and point_heights(bounce) == [1.0]
    # a top close above the last round tick is not labelled over it
    assert ticks(line_chart([("11-01", 0.0102)])) == ["0", "0.5%", "1.0%"]  # 1.02% is drawn, not labelled
    # a daily complaint rate can pass 100% (complaints that day about mail delivered before): shown as it is
    assert ticks(line_chart([("11-01", 2.0)], limit=0.001))[-1] == "200%"


@pytest.mark.parametrize(("values", "limit", "top", "n"), [
    ([0.0], None, 0.01, 5), ([0.0], 0.02, 0.02, 5), ([0.0003], 0.001, 0.001, 5), ([0.5], None, 0.5, 3),
    ([1.0], 0.97, 1.0, 5), ([0.00001], None, 0.00001, 5)])
def test_the_axis_has_three_to_five_round_ticks_under_its_top(values, limit, top, n):
    axis = value_axis(values, limit)
    assert axis.top == top and len(axis.ticks) == n and axis.ticks[0] == 0 and axis.ticks[-1] <= top
    steps = {round(b - a, 12) for a, b in zip(axis.ticks, axis.ticks[1:], strict=False)}
    assert len(steps) == 1


def test_an_sla_reads_with_the_places_it_needs():
    assert [percent_text(v) for v in (0.97, 0.001, 0.00025, 0.02)] == ["97.00%", "0.10%", "0.025%", "2.00%"]


def test_delivery_charts_are_titled_in_the_readers_language():
    kpis = {"sla": {"complaint_rate_max": 0.001},
            "days": [{"day": "2026-11-01", "counts": {"delivered": 0},
                      "rates": {"delivery": 0.0, "bounce": 0.0, "complaint": None}}]}
    out = delivery_charts(kpis, {"delivery": "Доля доставленных", "bounce": "Доля отказов", "complaint": "Доля жалоб"})
    assert 'aria-label="Доля доставленных"' in out["delivery"] and ">Доля отказов</text>" in out["bounce"]
    assert out["complaint"] == ""  # nothing delivered: no complaint rate, the page says so instead
    assert "2026-11-01" in out["delivered"]


def test_stacked_columns_of_zeros_label_no_top():
    from reports.charts import stacked_columns

    empty = stacked_columns([("11-01", {"block": 0}), ("11-02", {})], ("block",), {"block": "blocking"})
    labels = re.findall(r'text-anchor="end"[^>]*>([^<]+)</text>', empty)
    assert labels == ["0"] and "<rect x=\"" not in empty.split("blocking")[1]
    some = stacked_columns([("11-01", {"block": 3}), ("11-02", {"block": 1})], ("block",), {"block": "blocking"})
    assert re.findall(r'text-anchor="end"[^>]*>([^<]+)</text>', some) == ["0", "3"]
