"""What the /delivery page and the period PDF show: per integration its KPIs, charts and breaches;
per sending domain its KPIs."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from auditor.delivery import services as svc
from auditor.integrations.services import list_integrations
from reports.charts import bar_chart, line_chart


def overview(session: Session, start: date, end: date, policy: Any) -> list[dict[str, Any]]:
    """Per integration: its KPI document, inline SVG charts against its SLA lines, its findings."""
    out = []
    for integration in list_integrations(session):
        k = svc.integration_kpis(session, integration.name, start, end, policy)
        sla = k["sla"] or {}
        days = k["days"]
        k["charts"] = {
            "delivered": bar_chart([(d["day"], d["counts"]["delivered"]) for d in days], colour="#1e8449"),
            "delivery": line_chart([(d["day"][5:], d["rates"]["delivery"]) for d in days],
                                   limit=sla.get("delivery_rate_min"), colour="#1e8449", label="delivery rate"),
            "bounce": line_chart([(d["day"][5:], d["rates"]["bounce"]) for d in days],
                                 limit=sla.get("bounce_rate_max"), colour="#d68910", label="bounce rate"),
            "complaint": line_chart([(d["day"][5:], d["rates"]["complaint"]) for d in days],
                                    limit=sla.get("complaint_rate_max"), colour="#c0392b", label="complaint rate"),
        }
        out.append(k)
    return out


def domains(session: Session, start: date, end: date, policy: Any) -> list[dict[str, Any]]:
    """Per sending domain of the email campaigns: its KPI document over the period."""
    return [svc.domain_kpis(session, d, start, end, policy) for d in svc.sending_domains(session)]
