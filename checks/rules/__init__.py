"""Law packs and recipient rules (RULES.md §4-5): one declared object per rule, chosen by the campaign."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from checks.findings import Finding
from checks.rules import bulk, ca, channel, consent, eu, ru, us
from checks.rules.base import CampaignContext, DeclaredRule, Hit, Pack, RecipientContext
from checks.rules.facts import CampaignFacts, SenderStats
from checks.rules.policy import Policy, PolicyError, apply_policy, load_policy

__all__ = ["PACKS", "CampaignFacts", "DeclaredRule", "Hit", "Pack", "Policy", "PolicyError", "SenderStats",
           "apply_policy", "declared_rules", "evaluate_campaign", "load_policy", "packs_for",
           "recipient_findings"]

# §4 first: the gate reports a suppressed recipient's first blocking rule.
PACKS: tuple[Pack, ...] = (consent.PACK, ru.PACK, eu.PACK, us.PACK, ca.PACK, bulk.PACK, channel.PACK)


def packs_for(facts: CampaignFacts) -> list[Pack]:
    """The packs that apply: §4 always, jurisdictions, bulk for email, channel rules for the rest."""
    return [p for p in PACKS if p.applies_to(facts)]


def declared_rules() -> list[DeclaredRule]:
    """Every declared rule, in evaluation order."""
    return [r for p in PACKS for r in p.rules]


def evaluate_campaign(facts: CampaignFacts, *, message: Any = None, posture: Any = None,
                      policy: Policy | None = None, now: datetime | None = None) -> list[Finding]:
    """Campaign-level findings of every applicable pack, with the policy's severities."""
    policy = policy or Policy()
    ctx = CampaignContext(facts, message, posture, policy, now or datetime.now(UTC))
    found = [f for p in packs_for(facts) for r in p.of("campaign") for f in r.run(ctx, "campaign")]
    return apply_policy(found, policy)


def recipient_findings(state: Any, *, facts: CampaignFacts, policy: Policy | None = None,
                       now: datetime | None = None) -> list[Finding]:
    """Findings about one recipient's consent state (None: nothing recorded), with the policy applied."""
    policy = policy or _DEFAULT_POLICY
    ctx = RecipientContext(state, facts, policy, now or datetime.now(UTC))
    pseudonym = getattr(state, "pseudonym", None)
    subject = f"recipient:{pseudonym}" if pseudonym else "recipient"
    found: list[Finding] = []
    for r in _recipient_rules(facts):
        found += r.findings(ctx, subject)
    return apply_policy(found, policy) if found else found


_DEFAULT_POLICY = Policy()
_PLANS: dict[int, tuple[CampaignFacts, tuple[DeclaredRule, ...]]] = {}


def _recipient_rules(facts: CampaignFacts) -> tuple[DeclaredRule, ...]:
    """The recipient rules that apply to ``facts``, worked out once per facts object.

    The gate evaluates up to 100,000 recipients of one campaign per call; choosing the rules
    once keeps a recipient to the checks themselves.
    """
    hit = _PLANS.get(id(facts))
    if hit is not None and hit[0] is facts:
        return hit[1]
    rules = tuple(r for p in packs_for(facts) for r in p.of("recipient") if r.applies_to(facts))
    if len(_PLANS) > 256:
        _PLANS.clear()
    _PLANS[id(facts)] = (facts, rules)
    return rules
