"""The one shape every check and rule returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from checks.i18n import Message, stored_params

Severity = Literal["block", "warn", "info"]
SEVERITY_ORDER = {"info": 0, "warn": 1, "block": 2}


@dataclass(frozen=True)
class Finding:
    """One outcome of a check, keyed by a RULES.md id.

    ``detail_msgid``/``detail_params`` are filled from a ``checks.i18n.msg`` detail, so a stored
    finding renders in the reader's language later; they do not take part in equality.
    """

    rule_id: str
    severity: Severity
    title: str
    detail: str = ""
    citation: str = ""
    subject: str = "message"
    evidence: dict[str, Any] = field(default_factory=dict)
    detail_msgid: str = field(default="", compare=False)
    detail_params: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.detail, Message) and not self.detail_msgid:
            object.__setattr__(self, "detail_msgid", self.detail.msgid)
            object.__setattr__(self, "detail_params", stored_params(self.detail.params))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (``detail`` as English text, with its msgid and params)."""
        d = asdict(self)
        d["detail"] = str(self.detail)
        return d


def worst(findings: list[Finding]) -> Severity | None:
    """The highest severity among findings, or None."""
    if not findings:
        return None
    return max((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__)
