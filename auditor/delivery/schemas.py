"""Request and response bodies of the delivery API (INTERFACES.md § Delivery)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditor.periods import period

MAX_DAYS = 366


class PeriodQuery(BaseModel):
    """``from`` / ``to``: inclusive UTC days; default the last 30 days."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _period(self) -> PeriodQuery:
        self.start, self.end = period(self.start, self.end, max_days=MAX_DAYS)
        return self


class Counts(BaseModel):
    """Distinct messages (opened, clicked, complaints, unsubscribes: distinct recipients)."""

    sent: int
    delivered: int
    bounced_hard: int
    bounced_soft: int = Field(description="messages with a soft (temporary) bounce and no delivery in the scope: "
                                          "a soft bounce the provider retried into a delivery is a delivery")
    deferred: int
    dropped: int
    complaints: int
    unsubscribes: int
    opened: int
    clicked: int


class Rates(BaseModel):
    """Complaint and unsubscribe over delivered, the others over sent (bounce: hard bounces and soft
    bounces not delivered); null when nothing to divide by."""

    delivery: float | None
    bounce: float | None
    complaint: float | None
    unsubscribe: float | None
    open: float | None
    click: float | None


class Figures(BaseModel):
    """The KPI figures of a scope."""

    counts: Counts
    rates: Rates
    opens: dict[str, Any] = Field(description="machine: recipients whose opens were machine opens (Apple MPP); "
                                              "reliable: false when any were")
    first_event_at: str | None
    last_event_at: str | None


class CampaignDelivery(Figures):
    """A campaign's delivery KPIs and findings."""

    campaign_id: int
    delivery_seconds: dict[str, float | None] = Field(
        description="p50 / p95 seconds from a message's first submission to its first delivery")
    findings: list[dict[str, Any]]


class Day(Figures):
    """One UTC day."""

    day: str


class PeriodKpis(Figures):
    """A scope's KPIs over a period (inclusive UTC days), per day, with its findings."""

    from_: str = Field(alias="from")
    to: str
    delivery_seconds: dict[str, float | None] = Field(
        description="p50 / p95 seconds from first submission to first delivery of the messages first delivered "
                    "in the period (timed from their first submission, also when that was before it)")
    days: list[Day]
    findings: list[dict[str, Any]]


class IntegrationKpis(PeriodKpis):
    """An integration's KPIs over a period, per day, with SLA findings."""

    integration: str
    sla: dict[str, Any] | None


class DomainKpis(PeriodKpis):
    """A sending domain's KPIs over a period, per day, with mail delivered after a withdrawal."""

    domain: str
