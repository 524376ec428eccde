"""Consent coverage: sharing rule outcomes between recipients never changes any recipient's verdict."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from auditor.campaigns.coverage import Outcome
from auditor.campaigns.memo import OutcomeMemo
from checks.rules import CampaignFacts, load_policy, recipient_findings
from consent_ledger import ConsentState

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _states() -> list[ConsentState]:
    out = []
    combos = itertools.product(("granted", "confirmed", "withdrawn", "erased"), (None, NOW - timedelta(days=1),
                               NOW + timedelta(days=30)), (True, False), (None, True, False),
                               ("web_form", "purchase", None))
    for i, (status, expires, complete, flag, method) in enumerate(combos):
        out.append(ConsentState(f"{i:064x}", "email", "marketing", status, status == "confirmed", expires, i,
                                NOW - timedelta(hours=i), NOW - timedelta(days=i), method, complete, flag, flag,
                                not flag if flag is not None else None, "2025-09" if i % 2 else None))
    return out


def _direct(state, facts, policy) -> Outcome:
    found = recipient_findings(state, facts=facts, policy=policy, now=NOW)
    first = next((f for f in found if f.severity == "block"), None)
    return Outcome(tuple(dict.fromkeys(f.rule_id for f in found if f.severity == "block")),
                   (first.detail or first.title) if first else "",
                   tuple(dict.fromkeys(f.rule_id for f in found if f.severity == "warn")))


@pytest.mark.parametrize("jurisdictions", [["RU"], ["EU"], ["CA"], ["US"], ["RU", "EU", "CA"]])
@pytest.mark.parametrize("double_opt_in", [False, True])
def test_shared_outcomes_equal_evaluating_each_recipient(jurisdictions, double_opt_in):
    facts = CampaignFacts.model_validate({"jurisdictions": jurisdictions, "channel": "email"})
    policy = load_policy({"require_double_opt_in": double_opt_in})
    states = _states() * 3
    random.Random(len(jurisdictions)).shuffle(states)
    memo = OutcomeMemo(lambda s: _direct(s, facts, policy))
    for state in states:
        assert memo.outcome(state) == _direct(state, facts, policy), state


def test_equal_situations_are_evaluated_once():
    facts = CampaignFacts.model_validate({"jurisdictions": ["RU", "EU"]})
    policy = load_policy({})
    calls = []

    def evaluate(s):
        calls.append(s)
        return _direct(s, facts, policy)

    memo = OutcomeMemo(evaluate)
    for i in range(500):
        memo.outcome(ConsentState(f"{i:064x}", "email", "marketing", "confirmed", True, None, i, NOW,
                                  NOW - timedelta(minutes=i), "web_form", True, True, False, False, "2025-09"))
    assert len(calls) == 1


def test_distinct_expiries_compared_only_with_now_collapse():
    facts = CampaignFacts.model_validate({"jurisdictions": ["CA", "RU"]})
    policy = load_policy({})
    calls = []
    memo = OutcomeMemo(lambda s: calls.append(s) or _direct(s, facts, policy))
    for i in range(300):
        expires = None if i % 3 == 0 else NOW + timedelta(days=1 + i)
        state = ConsentState(f"{i:064x}", "email", "marketing", "confirmed", True, expires, i, NOW,
                             NOW - timedelta(minutes=i), "web_form", True, True, False, False, "2025-09")
        assert memo.outcome(state) == _direct(state, facts, policy)
    assert len(calls) <= 3
