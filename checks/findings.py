"""The one shape every check and rule returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["block", "warn", "info"]
SEVERITY_ORDER = {"info": 0, "warn": 1, "block": 2}


@dataclass(frozen=True)
class Finding:
    """One outcome of a check, keyed by a RULES.md id."""

    rule_id: str
    severity: Severity
    title: str
    detail: str = ""
    citation: str = ""
    subject: str = "message"
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)


def worst(findings: list[Finding]) -> Severity | None:
    """The highest severity among findings, or None."""
    if not findings:
        return None
    return max((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__)
