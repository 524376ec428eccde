"""RULES.md §4: each recipient's consent, both ways, and the order the gate relies on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checks.rules import Policy, recipient_findings
from tests.checks.rules.conftest import NOW, facts, recipient_ids, state


def test_good_consent_has_no_findings():
    assert recipient_ids(state(), facts(jurisdictions=[])) == []


@pytest.mark.parametrize(("s", "rule"), [
    (None, "CONSENT-NONE"),
    (state(status="withdrawn"), "CONSENT-WITHDRAWN"),
    (state(status="erased"), "CONSENT-ERASED"),
    (state(expires_at=NOW - timedelta(seconds=1)), "CONSENT-EXPIRED"),
])
def test_blocking_states(s, rule):
    found = recipient_findings(s, facts=facts(jurisdictions=[]), policy=Policy(), now=NOW)
    assert [f.rule_id for f in found] == [rule] and found[0].severity == "block"


def test_expiry_in_the_future_is_fine():
    assert recipient_ids(state(expires_at=NOW + timedelta(days=1)), facts(jurisdictions=[])) == []


def test_unconfirmed_only_when_policy_requires_double_opt_in():
    s = state(status="granted", confirmed=False)
    assert recipient_ids(s, facts(jurisdictions=[])) == []
    found = recipient_findings(s, facts=facts(jurisdictions=[]), policy=Policy(require_double_opt_in=True), now=NOW)
    assert [(f.rule_id, f.severity) for f in found] == [("CONSENT-UNCONFIRMED", "warn")]


def test_weak_evidence_warns():
    assert recipient_ids(state(evidence_complete=False), facts(jurisdictions=[])) == ["CONSENT-EVIDENCE-WEAK"]


def test_subject_is_the_pseudonym_and_detail_does_not_name_it():
    found = recipient_findings(state(pseudonym="abc123", status="withdrawn"), facts=facts(jurisdictions=[]),
                               policy=Policy(), now=NOW)
    assert found[0].subject == "recipient:abc123" and "abc123" not in found[0].detail
    assert recipient_findings(None, facts=facts(), now=NOW)[0].subject == "recipient"


def test_section_4_comes_before_the_packs():
    assert recipient_ids(None, facts(jurisdictions=["RU", "EU", "CA"]))[0] == "CONSENT-NONE"
    assert recipient_ids(state(status="withdrawn"), facts(jurisdictions=["EU"]))[0] == "CONSENT-WITHDRAWN"


def test_naive_expiry_from_sqlite_is_read_as_utc():
    s = state(expires_at=(NOW - timedelta(hours=1)).replace(tzinfo=None))
    assert "CONSENT-EXPIRED" in recipient_ids(s, facts(jurisdictions=[]))


def test_the_ledgers_own_state_type_is_read():
    from consent_ledger import ConsentState

    s = ConsentState(pseudonym="p", channel="email", purpose="marketing", status="withdrawn", confirmed=False,
                     expires_at=None, last_seq=3, updated_at=NOW, granted_at=None, method=None,
                     evidence_complete=False, separate_document=None, pre_ticked=None, bundled=None,
                     notice_version=None)
    assert recipient_ids(s, facts(jurisdictions=[])) == ["CONSENT-WITHDRAWN"]
