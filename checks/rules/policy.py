"""Organisation policy: severity overrides with reasons, approvals, opt-in, quiet hours, spam rate."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from checks.catalogue import RULES
from checks.findings import SEVERITY_ORDER, Finding, Severity

# RULES.md §4: the policy file cannot lower these below block (kept here, next to their check,
# rather than imported from checks.rules.consent, which imports the rule packs).
FLOOR_RULES = ("CONSENT-NONE", "CONSENT-WITHDRAWN", "CONSENT-ERASED")


class PolicyError(ValueError):
    """The policy file cannot be used; the message says what to fix."""


class SpamRate(BaseModel):
    """BULK-SPAM-RATE thresholds as fractions (Gmail: keep under 0.1%, never reach 0.3%)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    warn: float = Field(0.001, ge=0, le=1)
    block: float = Field(0.003, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> SpamRate:
        if self.warn > self.block:
            raise ValueError(f"spam_rate.warn ({self.warn}) is above spam_rate.block ({self.block})")
        return self


class Sla(BaseModel):
    """One contractor's SLA terms (docs/delivery.md); a term left out is not checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    delivery_rate_min: float | None = Field(None, ge=0, le=1)
    bounce_rate_max: float | None = Field(None, ge=0, le=1)
    complaint_rate_max: float | None = Field(None, ge=0, le=1)
    unsubscribe_honour_hours_max: float | None = Field(None, ge=0)
    report_delay_hours_max: float | None = Field(None, ge=0)


class Policy(BaseModel):
    """An organisation's policy; the defaults are RULES.md's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severities: dict[str, tuple[Severity, str]] = Field(default_factory=dict)
    require_double_opt_in: bool = False
    auto_approve: bool = False
    require_legal_and_security: bool = False
    soft_opt_in: bool = False
    quiet_hours: tuple[int, int] = (9, 21)
    spam_rate: SpamRate = Field(default_factory=SpamRate)
    # Notice versions the legal team checked for the 152-FZ art. 9 p. 4 content; empty = not tracked.
    reviewed_notices: list[str] = Field(default_factory=list)
    # SMS sender names registered with operators (126-FZ art. 44.1); empty = not tracked.
    registered_sms_senders: list[str] = Field(default_factory=list)
    # Country code -> reference of the Roskomnadzor cross-border notification (152-FZ art. 12).
    cross_border_notifications: dict[str, str] = Field(default_factory=dict)
    # Integration name -> its contractor SLA (SLA-* findings).
    sla: dict[str, Sla] = Field(default_factory=dict)
    # DELIVERY-AFTER-WITHDRAWAL beyond this; RU 38-FZ art. 18 p. 1: immediately (0); Gmail/Yahoo: 2880.
    withdrawal_grace_minutes: int = Field(0, ge=0, le=60 * 24 * 366)

    @field_validator("severities", mode="before")
    @classmethod
    def _overrides(cls, raw: Any) -> dict[str, tuple[str, str]]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise ValueError("severities must map a rule id to {severity, reason}")
        return {rid: _override(rid, v) for rid, v in raw.items()}

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        start, end = v
        if not (0 <= start < end <= 24):
            raise ValueError(f"quiet_hours must be (start, end) with 0 <= start < end <= 24, got {v}")
        return v


def _override(rule_id: str, value: Any) -> tuple[str, str]:
    if rule_id not in RULES:
        raise ValueError(f"severities: unknown rule id {rule_id!r}")
    if isinstance(value, dict):
        unknown = set(value) - {"severity", "reason"}
        if unknown:
            raise ValueError(f"severities.{rule_id}: unknown keys {sorted(unknown)}")
        sev, reason = value.get("severity"), value.get("reason")
    elif isinstance(value, list | tuple) and len(value) == 2:
        sev, reason = value
    else:
        sev, reason = value, None
    if sev not in SEVERITY_ORDER:
        raise ValueError(f"severities.{rule_id}: severity must be block, warn or info, not {sev!r}")
    if rule_id in FLOOR_RULES and sev != "block":
        # Mailing people who withdrew, were erased or never consented is unlawful whatever the
        # reason (38-FZ art. 18 p. 1; 152-FZ art. 15 p. 2, art. 21; GDPR art. 17, 21(3)).
        raise ValueError(f"severities.{rule_id}: cannot be lowered below block (withdrawn, erased and absent "
                         "consent always suppress the recipient)")
    default = RULES[rule_id].severity
    if not isinstance(reason, str) or not reason.strip():
        if default == "block" and SEVERITY_ORDER[sev] < SEVERITY_ORDER["block"]:
            # RULES.md: a block is never dropped silently
            raise ValueError(f"severities.{rule_id}: lowering a block to {sev} needs a reason")
        raise ValueError(f"severities.{rule_id}: every severity change needs a reason")
    return sev, reason.strip()


def load_policy(source: str | Path | dict[str, Any] | Policy | None = None) -> Policy:
    """A Policy from a YAML or JSON file, a mapping, or None (defaults); PolicyError says what is wrong."""
    if isinstance(source, Policy):
        return source
    where = "policy"
    if source is None or source == "":
        data: Any = {}
    elif isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        where = str(path)
        data = _read(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: the policy must be a mapping, not {type(data).__name__}")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        msg = str(e.get("ctx", {}).get("error") or e["msg"]).removeprefix("Value error, ")
        raise PolicyError(f"{where}: {loc + ': ' if loc and loc not in msg else ''}{msg}") from None


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"policy file {path} is not UTF-8 text") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise PolicyError(f"{path} is not valid JSON: {exc}") from None
    import yaml  # YAML is a superset of JSON: any other suffix is read as YAML

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None


def severity_changes(policy: Policy) -> list[dict[str, str]]:
    """Each severity the policy changes: {rule_id, from, to, reason}, for a campaign's coverage."""
    return [{"rule_id": rid, "from": RULES[rid].severity, "to": sev, "reason": reason}
            for rid, (sev, reason) in sorted(policy.severities.items()) if sev != RULES[rid].severity]


def apply_policy(findings: list[Finding], policy: Policy) -> list[Finding]:
    """Findings with the policy's severities; each change recorded in ``evidence["policy"]``."""
    if not policy.severities:
        return list(findings)
    out = []
    for f in findings:
        override = policy.severities.get(f.rule_id)
        if override is None or override[0] == f.severity:
            out.append(f)
            continue
        sev, reason = override
        out.append(replace(f, severity=sev,
                           evidence={**f.evidence, "policy": {"from": f.severity, "to": sev, "reason": reason}}))
    return out
