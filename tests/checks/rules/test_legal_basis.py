"""Issue 13: legal basis and time per jurisdiction, pre-ticked consent, the policy floor."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from checks.rules import Policy, PolicyError, evaluate_campaign, load_policy, recipient_findings
from checks.rules.policy import severity_changes
from tests.checks.rules.conftest import NOW, State, facts


@dataclass(frozen=True)
class BState(State):
    """A state with the legal basis the ledger now keeps."""

    legal_basis: str | None = "consent"


def s(**over) -> BState:
    return replace(BState(), **over)


def blocking(state, f, policy: Policy | None = None) -> dict[str, str]:
    return {x.rule_id: x.detail for x in recipient_findings(state, facts=f, policy=policy, now=NOW)
            if x.severity == "block"}


EU, UK, CA, RU = (facts(jurisdictions=[j]) for j in ("EU", "UK", "CA", "RU"))
SMS = {"channel": "sms"}


@pytest.mark.parametrize("f", [EU, UK, facts(jurisdictions=["EU"], **SMS)])
@pytest.mark.parametrize("bad", ["legitimate_interest", "contract", "anything_goes"])
def test_eu_marketing_on_a_basis_other_than_consent_is_blocked(f, bad):
    found = blocking(s(legal_basis=bad), f)
    assert "EU-EPRIVACY-13-CONSENT" in found and bad in found["EU-EPRIVACY-13-CONSENT"]
    assert "art. 13" in found["EU-EPRIVACY-13-CONSENT"]
    assert "EU-EPRIVACY-13-CONSENT" not in blocking(s(), f)


def test_eu_soft_opt_in_by_basis_only_where_the_policy_allows_it():
    customer = s(legal_basis="soft_opt_in", method="checkout")
    assert "EU-EPRIVACY-13-CONSENT" in blocking(customer, EU)
    assert "EU-EPRIVACY-13-CONSENT" not in blocking(customer, EU, Policy(soft_opt_in=True))


def test_pre_ticked_consent_suppresses_under_eu_rules_bundled_only_warns():
    found = blocking(s(pre_ticked=True), UK)
    assert "Planet49" in found["EU-GDPR-CONSENT-QUALITY"]
    assert "EU-GDPR-CONSENT-QUALITY" not in blocking(s(bundled=True), UK)
    warned = [x.rule_id for x in recipient_findings(s(bundled=True), facts=UK, now=NOW) if x.severity == "warn"]
    assert "EU-GDPR-CONSENT-QUALITY" in warned


def test_casl_implied_consent_is_judged_by_basis_and_claimed_time_not_the_word_implied():
    purchase = s(legal_basis="implied_purchase", method="checkout", granted_at=NOW - timedelta(days=700))
    assert "CA-CASL-CONSENT" not in blocking(purchase, CA)
    assert "730 days" in blocking(replace(purchase, granted_at=NOW - timedelta(days=731)), CA)["CA-CASL-CONSENT"]
    inquiry = s(legal_basis="implied_inquiry", method="contact_form", granted_at=NOW - timedelta(days=100))
    assert "CA-CASL-CONSENT" not in blocking(inquiry, CA)
    assert "CA-CASL-CONSENT" in blocking(replace(inquiry, granted_at=NOW - timedelta(days=200)), CA)


@pytest.mark.parametrize("bad", ["legitimate_interest", "contract", "anything_goes"])
def test_casl_refuses_bases_that_are_not_consent(bad):
    assert "CASL s. 6(1)(a)" in blocking(s(legal_basis=bad), CA)["CA-CASL-CONSENT"]


def test_ru_advertising_needs_prior_consent_as_its_basis():
    found = blocking(s(legal_basis="legitimate_interest"), RU)
    assert "38-FZ art. 18 p. 1" in found["RU-38FZ-18-LEGAL-BASIS"]
    assert "RU-38FZ-18-LEGAL-BASIS" not in blocking(s(), RU)
    assert "RU-38FZ-18-LEGAL-BASIS" not in blocking(s(legal_basis="legitimate_interest"), EU)


def test_states_without_a_basis_read_as_consent():
    assert not blocking(State(), EU) and not blocking(State(), RU)


@pytest.mark.parametrize("rule_id", ["CONSENT-WITHDRAWN", "CONSENT-ERASED", "CONSENT-NONE"])
@pytest.mark.parametrize("severity", ["warn", "info"])
def test_policy_cannot_lower_withdrawn_erased_or_absent_consent(rule_id, severity):
    with pytest.raises(PolicyError, match=f"{rule_id}: cannot be lowered below block"):
        load_policy({"severities": {rule_id: {"severity": severity, "reason": "VIP list"}}})


def test_withdrawn_people_stay_blocked_and_every_change_shows_with_the_campaign():
    policy = load_policy({"severities": {"CONSENT-EVIDENCE-WEAK": ["info", "paper forms"],
                                         "MSG-LINK-SHORTENER": ["block", "brand rule"]}})
    assert "CONSENT-WITHDRAWN" in blocking(s(status="withdrawn"), RU, policy)
    changes = severity_changes(policy)
    assert changes == [{"rule_id": "CONSENT-EVIDENCE-WEAK", "from": "warn", "to": "info", "reason": "paper forms"},
                       {"rule_id": "MSG-LINK-SHORTENER", "from": "warn", "to": "block", "reason": "brand rule"}]
    shown = [x for x in evaluate_campaign(RU, policy=policy, now=NOW) if x.rule_id == "POLICY-SEVERITY-CHANGED"]
    assert [x.evidence["rule_id"] for x in shown] == ["CONSENT-EVIDENCE-WEAK", "MSG-LINK-SHORTENER"]
    assert shown[0].severity == "info" and "paper forms" in shown[0].detail
    assert not [x for x in evaluate_campaign(RU, now=NOW) if x.rule_id == "POLICY-SEVERITY-CHANGED"]


def test_every_detail_of_these_rules_has_a_russian_translation():
    from pathlib import Path

    from babel.messages.pofile import read_po

    import checks

    with (Path(checks.__file__).parent / "translations/ru/LC_MESSAGES/checks.po").open("rb") as fh:
        catalogue = {m.id: m.string for m in read_po(fh) if m.id}
    states = [None, s(status="withdrawn"), s(status="erased"), s(expires_at=NOW - timedelta(days=1)),
              s(confirmed=False, status="granted", evidence_complete=False), s(legal_basis="contract"),
              s(legal_basis="soft_opt_in"), s(pre_ticked=True), s(bundled=True),
              s(legal_basis="implied_inquiry", granted_at=NOW - timedelta(days=400)),
              s(legal_basis="implied_inquiry", expires_at=NOW - timedelta(days=1))]
    policy = Policy(require_double_opt_in=True)
    seen = set()
    for f in (facts(jurisdictions=["RU", "EU", "CA"]),):
        for st in states:
            for x in recipient_findings(st, facts=f, policy=policy, now=NOW):
                if x.rule_id.startswith(("CONSENT-", "EU-", "CA-", "RU-38FZ-18-LEGAL")):
                    seen.add(x.detail.msgid)
        changed = load_policy({"severities": {"CONSENT-EVIDENCE-WEAK": ["info", "x"]}})
        bare = facts(jurisdictions=["CA"], sender={"legal_name": "", "postal_address": ""})
        for x in evaluate_campaign(bare, policy=changed, now=NOW):
            if x.rule_id.startswith(("CA-", "POLICY-")):
                seen.add(x.detail.msgid)
    missing = sorted(m for m in seen if not catalogue.get(m))
    assert len(seen) >= 15 and not missing, missing
