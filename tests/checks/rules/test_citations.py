"""A finding cites only the laws of its campaign's jurisdictions (catalogue CITATION_PARTS)."""

from __future__ import annotations

import pytest

from checks.catalogue import CITATION_PARTS, RULES, citation_for
from checks.rules import recipient_findings
from tests.checks.rules.conftest import NOW, facts, state

FOREIGN = {"RU": ("38-FZ", "152-FZ"), "EU": ("GDPR art", "ePrivacy"), "UK": ("UK GDPR", "PECR"),
           "US": ("CAN-SPAM", "TCPA"), "CA": ("CASL",)}


def citation(rule_id: str, st, **over) -> str:
    found = [f for f in recipient_findings(st, facts=facts(**over), now=NOW) if f.rule_id == rule_id]
    assert found, rule_id
    return found[0].citation


def test_consent_none_on_a_us_email_cites_no_foreign_law():
    cited = citation("CONSENT-NONE", None, jurisdictions=["US"])
    assert not any(word in cited for word in ("38-FZ", "GDPR", "ePrivacy", "CASL")), cited
    assert cited == "organisation policy"  # CAN-SPAM asks no prior consent for email


def test_consent_none_on_a_us_sms_cites_the_tcpa():
    cited = citation("CONSENT-NONE", None, jurisdictions=["US"], channel="sms", sender={"sms_sender_name": "SHOP"})
    assert "TCPA" in cited and "38-FZ" not in cited


@pytest.mark.parametrize(("jurisdictions", "cited", "not_cited"), [
    (["RU"], ["38-FZ art. 18 p. 1"], ["GDPR", "CASL", "ePrivacy"]),
    (["RU", "EU"], ["38-FZ art. 18 p. 1", "GDPR art. 6-7"], ["CASL", "PECR"]),
    (["UK"], ["UK GDPR art. 6-7", "PECR reg. 22"], ["38-FZ", "CASL"]),
    (["CA", "US"], ["CASL s. 6"], ["38-FZ", "GDPR"]),
    ([], ["38-FZ art. 18 p. 1", "GDPR art. 6-7", "CASL s. 6"], []),  # none declared: everything
])
def test_consent_none_cites_its_campaigns_laws(jurisdictions, cited, not_cited):
    text = citation("CONSENT-NONE", None, jurisdictions=jurisdictions)
    assert all(c in text for c in cited) and not any(n in text for n in not_cited), text


def test_withdrawn_on_a_us_email_cites_can_spam_only():
    text = citation("CONSENT-WITHDRAWN", state(status="withdrawn"), jurisdictions=["US"])
    assert text == "CAN-SPAM §7704(a)(4)"


def test_every_part_belongs_to_a_catalogued_rule_and_a_jurisdiction():
    for rid, parts in CITATION_PARTS.items():
        assert rid in RULES
        for key in parts:
            assert key == "" or key.split(":")[0] in FOREIGN, (rid, key)
        for j in FOREIGN:  # a single jurisdiction's citation names no other's law
            own = citation_for(rid, [j], "email")
            others = [w for o, words in FOREIGN.items() if o != j and not (j == "UK" and o == "EU")
                      for w in words if not (j == "EU" and w == "UK GDPR")]
            assert not any(w in own for w in others), (rid, j, own)


def test_single_law_rules_keep_their_citation():
    assert citation_for("RU-38FZ-18-CONSENT", ["US"]) == RULES["RU-38FZ-18-CONSENT"].citation
