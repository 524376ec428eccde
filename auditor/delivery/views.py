"""What the /delivery page and the period PDF show: per integration its KPIs and breaches;
per sending domain its KPIs."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from auditor.delivery import services as svc
from auditor.integrations.services import list_integrations


def overview(session: Session, start: date, end: date, policy: Any) -> list[dict[str, Any]]:
    """Per integration: its KPI document with its SLA findings (the charts are drawn in the reader's
    language by reports.charts.delivery_charts)."""
    return [svc.integration_kpis(session, integration.name, start, end, policy)
            for integration in list_integrations(session)]


def domains(session: Session, start: date, end: date, policy: Any) -> list[dict[str, Any]]:
    """Per sending domain of the email campaigns: its counts and rates over the period (the table
    shows no more; a domain's days, percentiles and findings are its API document's)."""
    return [svc.domain_kpis(session, d, start, end, policy, totals_only=True) for d in svc.sending_domains(session)]
