"""Response models shared by several areas of the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FindingOut(BaseModel):
    """A finding as the API shows it: the catalogue's id, title and citation, and the evidence."""

    rule_id: str
    severity: str
    title: str
    detail: str = ""
    citation: str = ""
    subject: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
