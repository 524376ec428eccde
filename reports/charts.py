"""Charts as inline SVG strings (no JavaScript): horizontal bars, stacked columns, lines against a limit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

COLOURS = {"block": "#c0392b", "warn": "#d68910", "info": "#2e86c1", "approved": "#1e8449",
           "needs_review": "#d68910", "blocked": "#c0392b", "rejected": "#7b241c"}
_FONT = 'font-family="DejaVu Sans" font-size="9"'


def bar_chart(items: Sequence[tuple[str, float]], *, width: int = 480, bar: int = 14,
              colour: str = "#2e86c1", label_width: int = 190) -> str:
    """Horizontal bars, one per (label, value), largest scale = longest bar."""
    if not items:
        return ""
    top = max(v for _, v in items) or 1
    span = width - label_width - 40
    height = len(items) * (bar + 6) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">']
    for i, (label, value) in enumerate(items):
        y = 2 + i * (bar + 6)
        w = max(1.0, span * value / top)
        text = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<text x="{label_width - 6}" y="{y + bar - 3}" text-anchor="end" {_FONT}>'
                     f'{escape(text)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colour}"/>')
        parts.append(f'<text x="{label_width + w + 4:.1f}" y="{y + bar - 3}" {_FONT}>{_num(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns(series: Sequence[tuple[str, dict[str, float]]], keys: Sequence[str],
                    legend: dict[str, str], *, width: int = 480, height: int = 180) -> str:
    """One column per (x label, {key: value}), stacked in ``keys`` order, with a legend."""
    if not series:
        return ""
    highest = max(sum(v.get(k, 0) for k in keys) for _, v in series)
    top = highest or 1  # all zero: no top label, since no column reaches one
    left, bottom, legend_h = 30, 28, 16
    plot_h = height - bottom - legend_h
    step = (width - left - 6) / len(series)
    col = max(2.0, min(28.0, step * 0.7))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">',
             f'<line x1="{left}" y1="{legend_h + plot_h}" x2="{width - 4}" y2="{legend_h + plot_h}" stroke="#555"/>',
             f'<text x="{left - 4}" y="{legend_h + plot_h}" text-anchor="end" {_FONT}>0</text>']
    if highest:
        parts.append(f'<text x="{left - 4}" y="{legend_h + 8}" text-anchor="end" {_FONT}>{_num(top)}</text>')
    x = left
    for k in keys:
        parts.append(f'<rect x="{x}" y="2" width="9" height="9" fill="{COLOURS.get(k, "#888")}"/>'
                     f'<text x="{x + 12}" y="10" {_FONT}>{escape(legend.get(k, k))}</text>')
        x += 18 + 6.5 * len(legend.get(k, k))
    every = max(1, round(len(series) / 10))
    for i, (label, values) in enumerate(series):
        cx = left + step * i + (step - col) / 2
        y = legend_h + plot_h
        for k in keys:
            v = values.get(k, 0)
            if v:
                h = plot_h * v / top
                y -= h
                parts.append(f'<rect x="{cx:.1f}" y="{y:.1f}" width="{col:.1f}" height="{h:.1f}" '
                             f'fill="{COLOURS.get(k, "#888")}"/>')
        if i % every == 0:
            parts.append(f'<text x="{cx + col / 2:.1f}" y="{legend_h + plot_h + 12}" text-anchor="middle" '
                         f'{_FONT}>{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Axis:
    """A value axis from 0: its top (a value or a limit line reaches it) and the round ticks labelled
    on it, with the ``decimals`` their labels need."""

    top: float
    ticks: tuple[float, ...]
    decimals: int


# With nothing above 0 and no limit line, a rate axis tops here (1%): low enough that a reader
# does not take its top label for a rate that happened, high enough to show the line at 0.
EMPTY_RATE_TOP = 0.01


def value_axis(values: Sequence[float | None], limit: float | None = None, *, empty_top: float = EMPTY_RATE_TOP,
               percent: bool = True) -> Axis:
    """A 0-based axis topped by the highest value or the limit line (with neither above 0: ``empty_top``),
    with round ticks under it (1, 2, 2.5 or 5 times a power of ten, 3 to 5 of them)."""
    hi = max([v for v in values if v is not None] + ([limit] if limit is not None else []), default=0.0)
    if hi <= 0:
        hi = empty_top
    raw = hi / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    ticks = tuple(round(i * step, 12) for i in range(math.floor(hi / step + 1e-9) + 1))
    unit = step * 100 if percent else step
    decimals = next(d for d in range(10) if abs(round(unit, d) - unit) < 1e-9 * max(1.0, unit))
    return Axis(hi, ticks, decimals)


def percent_text(v: float, decimals: int = 2) -> str:
    """``v`` (a fraction) as a percent with at least ``decimals`` places and as many more as it needs
    (up to 4): 0.97 -> 97.00%, 0.00025 -> 0.025%."""
    d = next((d for d in range(decimals, 5) if abs(round(v * 100, d) - v * 100) < 1e-9), 4)
    return f"{v * 100:.{d}f}%"


def line_chart(series: Sequence[tuple[str, float | None]], *, limit: float | None = None, percent: bool = True,
               colour: str = "#2e86c1", width: int = 480, height: int = 150, label: str = "", titled: bool = True,
               limit_label: str = "SLA") -> str:
    """One line over (x label, value) points (None = no data) with an optional dashed limit line (an SLA,
    named in the legend above the plot, where no point can cover it), on a gridded axis from
    :func:`value_axis`; ``label`` names the chart (written above it unless ``titled`` is false);
    empty when no point has a value (say so instead)."""
    values = [v for _, v in series if v is not None]
    if not values:
        return ""
    axis = value_axis(values, limit, percent=percent)
    # room for "100%" or "0.075%" left of the axis and half a day label ("11-29") right of the last point
    left, right, bottom, top_pad = 48, 20, 18, 20
    plot_h = height - bottom - top_pad
    step = (width - left - right) / max(1, len(series) - 1)

    def tick(v: float, extra: int = 0) -> str:
        if v == 0:
            return "0"
        d = axis.decimals + extra
        return f"{v * 100:.{d}f}%" if percent else f"{v:.{d}f}"

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / axis.top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">']
    if titled:
        parts.append(f'<text x="{left}" y="10" {_FONT}>{escape(label)}</text>')
    for t in axis.ticks:
        line = "#555" if t == 0 else "#ddd"
        parts.append(f'<line x1="{left}" y1="{y(t):.1f}" x2="{width - 4}" y2="{y(t):.1f}" stroke="{line}"/>'
                     f'<text x="{left - 4}" y="{y(t) + 3:.1f}" text-anchor="end" {_FONT} class="tick">'
                     f'{tick(t)}</text>')
    if (axis.top - axis.ticks[-1]) / axis.top > 0.08:  # the top is the highest value or the SLA: say it
        parts.append(f'<text x="{left - 4}" y="{y(axis.top) + 3:.1f}" text-anchor="end" {_FONT} class="tick">'
                     f'{tick(axis.top, 1)}</text>')
    if limit is not None:
        text = percent_text(limit) if percent else _num(limit)
        dash = f'stroke="{COLOURS["block"]}" stroke-dasharray="4 3"'
        parts.append(f'<line x1="{left}" y1="{y(limit):.1f}" x2="{width - 4}" y2="{y(limit):.1f}" {dash}/>'
                     f'<line x1="{width - 100}" y1="7" x2="{width - 84}" y2="7" {dash}/>'
                     f'<text x="{width - 80}" y="10" {_FONT} fill="{COLOURS["block"]}">'
                     f'{escape(limit_label)} {text}</text>')
    points = [(left + step * i if len(series) > 1 else left + (width - left) / 2, v)
              for i, (_, v) in enumerate(series)]
    drawn = [f"{x:.1f},{y(v):.1f}" for x, v in points if v is not None]
    if len(drawn) > 1:
        parts.append(f'<polyline points="{" ".join(drawn)}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    for x, v in points:
        if v is not None:
            parts.append(f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>')
    every = max(1, round(len(series) / 8))
    for i, (text, _v) in enumerate(series):
        if i % every == 0:
            parts.append(f'<text x="{points[i][0]:.1f}" y="{height - 4}" text-anchor="middle" {_FONT}>'
                         f'{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# The delivery section's rate charts: (KPI rate, its SLA field, colour).
DELIVERY_RATES = (("delivery", "delivery_rate_min", "#1e8449"), ("bounce", "bounce_rate_max", "#d68910"),
                  ("complaint", "complaint_rate_max", "#c0392b"))


def delivery_charts(kpis: Mapping[str, Any], titles: Mapping[str, str], *, titled: bool = True) -> dict[str, str]:
    """An integration's KPI document (INTERFACES.md § Delivery) as the /delivery page and the period PDF
    draw it: delivered per day, and each daily rate against its SLA line, titled from ``titles`` (the
    reader's language; written above each chart unless ``titled`` is false: the page heads them itself);
    a rate no day has (nothing delivered: no complaint rate) is ``""``."""
    days, sla = kpis["days"], kpis.get("sla") or {}
    out = {"delivered": bar_chart([(d["day"], d["counts"]["delivered"]) for d in days], colour="#1e8449")}
    for rate, field, colour in DELIVERY_RATES:
        out[rate] = line_chart([(d["day"][5:], d["rates"][rate]) for d in days], limit=sla.get(field),
                               colour=colour, label=titles[rate], titled=titled)
    return out


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
