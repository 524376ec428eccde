"""The declared rule: an id, what it applies to, and a check; titles and citations live in the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from checks.catalogue import CITATION_PARTS, citation_for, finding, rule
from checks.catalogue import Rule as CatalogueEntry
from checks.findings import Finding, Severity
from checks.i18n import msg
from checks.rules.facts import CampaignFacts

LIVE = ("granted", "confirmed")


@dataclass(frozen=True)
class Hit:
    """A rule's outcome: why it triggered, with evidence; severity only where the rule grades it."""

    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None


@dataclass(frozen=True)
class CampaignContext:
    """What a campaign-level rule reads."""

    facts: CampaignFacts
    message: Any  # checks.message.MessageReport | None
    posture: Any  # checks.domain_audit.DomainAudit | None
    policy: Any  # checks.rules.policy.Policy
    now: datetime

    def posture_ids(self) -> set[str]:
        """Rule ids of the posture's findings (empty when there is no posture)."""
        return {f.rule_id for f in getattr(self.posture, "findings", None) or ()}


@dataclass(frozen=True)
class RecipientContext:
    """What a recipient-level rule reads: one consent state (duck-typed ConsentState or None)."""

    state: Any
    facts: CampaignFacts
    policy: Any
    now: datetime

    @cached_property
    def live(self) -> bool:
        """A grant that has not been withdrawn, erased or let expire."""
        s = self.state
        return s is not None and s.status in LIVE and not expired(s, self.now)


def expired(state: Any, now: datetime) -> bool:
    """True when the state carries an expiry at or before ``now``."""
    exp = getattr(state, "expires_at", None)
    if exp is None:
        return False
    if exp.tzinfo is None and now.tzinfo is not None:  # SQLite hands back naive UTC
        exp = exp.replace(tzinfo=now.tzinfo)
    return exp <= now


def joined(parts: list[str]) -> str:
    """Several details as one, "a; b; c", each part kept translatable (a nested ``msg``)."""
    if not parts:
        return ""
    out = parts[0]
    for part in parts[1:]:
        out = msg("{head}; {tail}", head=out, tail=part)
    return out


def flag(value: Any) -> bool | None:
    """An evidence flag (separate_document, pre_ticked, bundled): None when not recorded, else a bool.

    The ledger's bulk read hands SQLite's 0/1 through as they are: ``0 is False`` is false, so a
    rule that tests ``is False`` would miss a recorded "no".
    """
    return None if value is None else bool(value)


def cite(findings: list[Finding], facts: CampaignFacts) -> list[Finding]:
    """Findings citing only the laws of the campaign's jurisdictions (catalogue ``CITATION_PARTS``)."""
    return [replace(f, citation=citation_for(f.rule_id, facts.jurisdictions, facts.channel))
            if f.rule_id in CITATION_PARTS else f for f in findings]


Applies = Callable[[CampaignFacts], bool]
Check = Callable[[Any], Iterable[Hit] | Hit | None]


def always(_facts: CampaignFacts) -> bool:
    """Applies to every campaign the pack applies to."""
    return True


@dataclass(frozen=True)
class DeclaredRule:
    """One rule: catalogue id, scope (campaign or recipient), what it applies to, the check."""

    id: str
    scope: str  # "campaign" | "recipient"
    applies_to: Applies
    check: Check
    doc: str = ""

    @property
    def entry(self) -> CatalogueEntry:
        """The catalogue entry (title, severity, citation)."""
        return rule(self.id)

    def run(self, ctx: Any, subject: str) -> list[Finding]:
        """Findings of this rule in ``ctx``."""
        return self.findings(ctx, subject) if self.applies_to(ctx.facts) else []

    def findings(self, ctx: Any, subject: str) -> list[Finding]:
        """Findings of the check, the rule already known to apply."""
        out = self.check(ctx)
        if out is None:
            return []
        hits = [out] if isinstance(out, Hit) else list(out)
        return cite([finding(self.id, h.detail, subject=subject, evidence=h.evidence, severity=h.severity)
                     for h in hits], ctx.facts)


@dataclass
class Pack:
    """A set of rules chosen together (a jurisdiction, the bulk-sender rules, a channel)."""

    name: str
    applies_to: Applies
    rules: list[DeclaredRule] = field(default_factory=list)

    def _declare(self, scope: str, rule_id: str, applies_to: Applies) -> Callable[[Check], Check]:
        rule(rule_id)  # an unknown id fails at import, not at audit time

        def register(fn: Check) -> Check:
            self.rules.append(DeclaredRule(rule_id, scope, applies_to, fn, (fn.__doc__ or "").strip()))
            return fn

        return register

    def campaign(self, rule_id: str, applies_to: Applies = always) -> Callable[[Check], Check]:
        """Declare a campaign-level rule (the decorated function is its check)."""
        return self._declare("campaign", rule_id, applies_to)

    def recipient(self, rule_id: str, applies_to: Applies = always) -> Callable[[Check], Check]:
        """Declare a recipient-level rule (the decorated function is its check)."""
        return self._declare("recipient", rule_id, applies_to)

    def of(self, scope: str) -> list[DeclaredRule]:
        """This pack's rules of one scope, in declaration order."""
        return [r for r in self.rules if r.scope == scope]
