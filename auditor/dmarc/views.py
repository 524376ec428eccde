"""What the domain page and the domain PDF show of receivers' reports: sources, daily chart, selectors."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from auditor.dmarc import services as svc
from auditor.dmarc.selectors import list_selectors
from reports.charts import stacked_columns

SORTS = {"verdict", "messages", "ip", "dmarc_pass"}


def daily_chart(days: list[dict[str, Any]], legend: dict[str, str], width: int = 520) -> str:
    """Stacked daily columns: DMARC pass (green) under fail (red); the height is the volume."""
    # charts.COLOURS' "approved" / "blocked" are the project's green and red.
    series = [(d["day"][5:], {"approved": d["dmarc_pass"], "blocked": d["messages"] - d["dmarc_pass"]})
              for d in days]
    return stacked_columns(series, ["approved", "blocked"], legend, width=width)


def domain_panel(s: Session, domain: str, *, start: date | None = None, end: date | None = None,
                 sort: str = "verdict", resolver: Any = None,
                 legend: dict[str, str] | None = None) -> dict[str, Any]:
    """Sources (unauthorised first unless sorted otherwise), daily pass rate and volume, TLS, selectors."""
    start, end = svc.period(start, end)
    sources = svc.sources(s, domain, start, end, resolver)
    rows = [svc.source_view(x) for x in sources]
    if sort == "messages":
        rows.sort(key=lambda r: -r["messages"])
    elif sort == "ip":
        rows.sort(key=lambda r: r["ip"])
    elif sort == "dmarc_pass":
        rows.sort(key=lambda r: r["dmarc_pass"] / r["messages"] if r["messages"] else 0)
    for r in rows:
        r["pass_share"] = r["dmarc_pass"] / r["messages"] if r["messages"] else 0.0
    days = svc.daily(s, domain, start, end)
    total = sum(d["messages"] for d in days)
    passed = sum(d["dmarc_pass"] for d in days)
    tls = svc.tls_policies(s, domain, start, end)
    return {"from": start, "to": end, "sources": rows, "days": days, "messages": total,
            "pass_rate": passed / total if total else None,
            "chart": daily_chart(days, legend or {"approved": "DMARC pass", "blocked": "DMARC fail"}),
            "findings": [f.to_dict() for f in svc.source_findings(domain, sources) + svc.tls_findings(domain, tls)],
            "tls": tls, "selectors": list_selectors(s, domain)}
