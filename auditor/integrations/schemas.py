"""Request and response bodies of the integrations API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator


class IntegrationOut(BaseModel):
    """An integration without its secret or webhook token."""

    id: int
    name: str
    provider: str
    controller: str | None
    channel: str
    purpose: str
    has_secret: bool
    created_at: str
    created_by: str
    inbox: dict[str, int]


class IntegrationList(BaseModel):
    """Every integration."""

    integrations: list[IntegrationOut]


class AudienceQuery(BaseModel):
    """The export format."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "jsonl"] = "csv"


class SuppressionQuery(BaseModel):
    """Since when (RFC 3339, with a time zone) and the export format."""

    model_config = ConfigDict(extra="forbid")
    since: datetime | None = None
    format: Literal["csv", "jsonl"] = "csv"

    @field_validator("since")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return v
        if v.tzinfo is None:
            raise ValueError("give a time zone (e.g. Z or +03:00)")
        try:
            return v.astimezone(UTC)
        except OverflowError:
            raise ValueError("out of range") from None
