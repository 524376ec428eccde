"""Organisation policy files: overrides with reasons, refusals that say what to fix, evidence of changes."""

from __future__ import annotations

import json

import pytest

from checks.catalogue import finding
from checks.rules import Policy, PolicyError, apply_policy, load_policy, recipient_findings
from tests.checks.rules.conftest import NOW, campaign_ids, facts, report, state

YAML = """\
severities:
  MSG-NO-TEXT-PART: {severity: warn, reason: "house style: always send a text part"}
  CONSENT-EVIDENCE-WEAK: [info, "imported 2019 list, evidence held on paper"]
  BULK-DMARC: {severity: warn, reason: "transactional subdomain, DMARC rollout ticket SEC-12"}
require_double_opt_in: true
auto_approve: true
require_legal_and_security: true
soft_opt_in: true
quiet_hours: [10, 20]
spam_rate: {warn: 0.0008, block: 0.002}
"""


def test_yaml_policy_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(YAML, encoding="utf-8")
    p = load_policy(path)
    assert p.severities["CONSENT-EVIDENCE-WEAK"] == ("info", "imported 2019 list, evidence held on paper")
    assert p.require_double_opt_in and p.auto_approve and p.require_legal_and_security and p.soft_opt_in
    assert p.quiet_hours == (10, 20) and p.spam_rate.block == 0.002


def test_json_policy_file_and_defaults(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"auto_approve": True}))
    assert load_policy(str(path)).auto_approve
    d = load_policy(None)
    assert d == Policy() and d.quiet_hours == (9, 21) and not d.auto_approve and d.spam_rate.warn == 0.001
    assert load_policy({}) == Policy()


@pytest.mark.parametrize(("data", "message"), [
    ({"severities": {"MSG-DKIM-FAIL": "warn"}}, "lowering a block to warn needs a reason"),
    ({"severities": {"MSG-DKIM-FAIL": {"severity": "info", "reason": "  "}}}, "lowering a block to info needs a reason"),
    ({"severities": {"MSG-NO-TEXT-PART": "warn"}}, "every severity change needs a reason"),
    ({"severities": {"NO-SUCH-RULE": ["warn", "x"]}}, "unknown rule id 'NO-SUCH-RULE'"),
    ({"severities": {"MSG-NO-TEXT-PART": ["fatal", "x"]}}, "block, warn or info"),
    ({"auto_aprove": True}, "auto_aprove"),
    ({"quiet_hours": [21, 9]}, "quiet_hours"),
    ({"spam_rate": {"warn": 0.5, "block": 0.1}}, "above spam_rate.block"),
    (["not", "a", "mapping"], "mapping"),
])
def test_bad_policies_are_refused_with_a_clear_error(tmp_path, data, message):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(".", r"\.")) as info:
        load_policy(path)
    assert str(path) in str(info.value)


def test_unreadable_or_broken_files(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")
    bad = tmp_path / "p.yaml"
    bad.write_text("severities: [unclosed")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(bad)


def test_apply_policy_records_every_change():
    policy = load_policy({"severities": {"MSG-DKIM-FAIL": ["warn", "legacy relay re-signs; ticket SEC-9"],
                                         "MSG-NO-TEXT-PART": ["info", "same as default"]}})
    before = [finding("MSG-DKIM-FAIL", "d=x"), finding("MSG-NO-TEXT-PART"), finding("MSG-SIZE-CLIPPED")]
    after = apply_policy(before, policy)
    assert after[0].severity == "warn"
    assert after[0].evidence["policy"] == {"from": "block", "to": "warn", "reason": "legacy relay re-signs; ticket SEC-9"}
    assert "policy" not in after[1].evidence and "policy" not in after[2].evidence  # nothing changed
    assert apply_policy(after, policy) == after  # idempotent: the service may apply it again


def test_policy_raises_a_severity():
    policy = load_policy({"severities": {"MSG-LINK-SHORTENER": {"severity": "block", "reason": "brand rule"}}})
    out = apply_policy([finding("MSG-LINK-SHORTENER")], policy)
    assert out[0].severity == "block" and out[0].evidence["policy"]["from"] == "warn"


def test_recipient_findings_apply_the_policy():
    policy = load_policy({"severities": {"CONSENT-EVIDENCE-WEAK": ["info", "paper evidence"]}})
    found = recipient_findings(state(evidence_complete=False), facts=facts(jurisdictions=[]), policy=policy, now=NOW)
    assert [(f.rule_id, f.severity) for f in found] == [("CONSENT-EVIDENCE-WEAK", "info")]


def test_campaign_findings_apply_the_policy():
    policy = load_policy({"severities": {"BULK-ONE-CLICK": ["warn", "one-click rollout next month"]}})
    from checks.rules import evaluate_campaign
    from tests.checks.rules.conftest import posture

    found = evaluate_campaign(facts(), message=report(one_click=False), posture=posture(), policy=policy, now=NOW)
    assert next(f for f in found if f.rule_id == "BULK-ONE-CLICK").severity == "warn"
    assert "BULK-ONE-CLICK" in campaign_ids(facts(), message=report(one_click=False))
