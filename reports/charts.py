"""Charts as inline SVG strings (no JavaScript): horizontal bars and stacked columns."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

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
    top = max(sum(v.get(k, 0) for k in keys) for _, v in series) or 1
    left, bottom, legend_h = 30, 28, 16
    plot_h = height - bottom - legend_h
    step = (width - left - 6) / len(series)
    col = max(2.0, min(28.0, step * 0.7))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">',
             f'<line x1="{left}" y1="{legend_h + plot_h}" x2="{width - 4}" y2="{legend_h + plot_h}" stroke="#555"/>',
             f'<text x="{left - 4}" y="{legend_h + 8}" text-anchor="end" {_FONT}>{_num(top)}</text>',
             f'<text x="{left - 4}" y="{legend_h + plot_h}" text-anchor="end" {_FONT}>0</text>']
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


def line_chart(series: Sequence[tuple[str, float | None]], *, limit: float | None = None, percent: bool = True,
               colour: str = "#2e86c1", width: int = 480, height: int = 150, label: str = "") -> str:
    """One line over (x label, value) points (None = no data) with an optional dashed limit line (an SLA)."""
    if not series:
        return ""
    values = [v for _, v in series if v is not None]
    top = max([*values, limit or 0, 0]) * 1.15 or 1
    if percent:
        top = min(top, 1.0)
    # room for "100.00%" left of the axis and half a day label ("11-29") right of the last point
    left, right, bottom, top_pad = 48, 20, 18, 14
    plot_h = height - bottom - top_pad
    step = (width - left - right) / max(1, len(series) - 1)

    def fmt(v: float) -> str:
        return f"{v:.2%}" if percent else _num(v)

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 4}" y2="{top_pad + plot_h}" stroke="#555"/>',
             f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" {_FONT}>{fmt(top)}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" {_FONT}>0</text>',
             f'<text x="{left}" y="10" {_FONT}>{escape(label)}</text>']
    if limit is not None:
        parts.append(f'<line x1="{left}" y1="{y(limit):.1f}" x2="{width - 4}" y2="{y(limit):.1f}" '
                     f'stroke="{COLOURS["block"]}" stroke-dasharray="4 3"/>'
                     f'<text x="{width - 6}" y="{y(limit) - 3:.1f}" text-anchor="end" {_FONT} '
                     f'fill="{COLOURS["block"]}">SLA {fmt(limit)}</text>')
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


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
