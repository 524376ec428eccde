"""Consent of each recipient, looked up in bulk: one ledger query, one HMAC per address."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from auditor.campaigns.memo import OutcomeMemo

INVALID_RULE = "CONSENT-NONE"  # no consent can exist for an identifier that does not parse


class Outcome(NamedTuple):
    """The rule outcome shared by every recipient in the same consent situation."""

    blocking: tuple[str, ...]  # block-level rule ids; empty = may be sent to
    reason: str  # why the first blocking rule applies
    warnings: tuple[str, ...]  # warn-level rule ids


# (recipient as given, pseudonym or None when it does not parse, outcome)
RecipientVerdict = tuple[str, "str | None", Outcome]


@dataclass
class Coverage:
    """Counts over a campaign's recipients."""

    allowed: int = 0
    suppressed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The API's ``consent`` object."""
        return {"allowed": self.allowed, "suppressed": self.suppressed,
                "reasons": dict(self.reasons), "warnings": dict(self.warnings)}


def evaluate_recipients(ledger: Any, recipients: list[str], *, facts: Any, policy: Any,
                        now: datetime, conn: Any = None) -> list[RecipientVerdict]:
    """A verdict per recipient (in order), from one ``current_states`` lookup (on ``conn`` if given)."""
    from checks.rules import recipient_findings

    channel, purpose = facts.channel, facts.purpose
    pseudonyms = ledger.pseudonyms_of(recipients, channel)
    wanted = [p for p in pseudonyms.values() if type(p) is str]
    states = ledger.current_states(wanted, channel, purpose, conn=conn) if wanted else {}

    def outcome(state: Any) -> Outcome:
        found = recipient_findings(state, facts=facts, policy=policy, now=now)
        first = next((f for f in found if f.severity == "block"), None)
        return Outcome(tuple(dict.fromkeys(f.rule_id for f in found if f.severity == "block")),
                       (first.detail or first.title) if first else "",
                       tuple(dict.fromkeys(f.rule_id for f in found if f.severity == "warn")))

    memo = OutcomeMemo(outcome)
    nothing: Outcome | None = None  # "no consent recorded" is shared by every such recipient
    out: list[RecipientVerdict] = []
    append = out.append
    get_state = states.get
    for raw in recipients:
        p = pseudonyms[raw]
        if type(p) is not str:  # the identifier does not parse: say why
            append((raw, None, Outcome((INVALID_RULE,), str(p), ())))
            continue
        state = get_state(p)
        if state is None:
            if nothing is None:
                nothing = outcome(None)
            append((raw, p, nothing))
        else:
            append((raw, p, memo.outcome(state)))
    return out


def summarise(verdicts: list[RecipientVerdict]) -> Coverage:
    """Counts: allowed, suppressed, and per rule id how many recipients it suppresses or warns."""
    reasons: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    allowed = 0
    for _raw, _p, outcome in verdicts:
        allowed += not outcome.blocking
        reasons.update(outcome.blocking)
        warnings.update(outcome.warnings)
    return Coverage(allowed, len(verdicts) - allowed, dict(sorted(reasons.items())),
                    dict(sorted(warnings.items())))


def policy_changes(findings: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The severity changes an audit ran under, read from its POLICY-SEVERITY-CHANGED findings."""
    return [dict(f.get("evidence") or {}) for f in findings or [] if f.get("rule_id") == "POLICY-SEVERITY-CHANGED"]


def citations(rule_ids: Any, jurisdictions: list[str], channel: str) -> dict[str, str]:
    """Per suppressing or warning rule id, what it cites in this campaign (its jurisdictions only)."""
    from checks.catalogue import RULES, citation_for

    return {rid: citation_for(rid, jurisdictions, channel) for rid in sorted(set(rule_ids)) if rid in RULES}
