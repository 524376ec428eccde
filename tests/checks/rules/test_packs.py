"""The declared rules: one per catalogue id, titles from the catalogue, packs chosen by the campaign."""

from __future__ import annotations

from checks.catalogue import RULES
from checks.rules import declared_rules, packs_for
from tests.checks.rules.conftest import facts


def test_every_section_4_and_5_id_has_a_declared_rule():
    declared = {r.id for r in declared_rules()}
    wanted = {rid for rid, r in RULES.items() if r.section not in ("dns", "blocklists", "message", "delivery")}
    assert wanted == declared


def test_a_declared_rule_reads_title_and_citation_from_the_catalogue():
    r = next(r for r in declared_rules() if r.id == "RU-38FZ-18.1-MARKING")
    assert r.entry is RULES["RU-38FZ-18.1-MARKING"] and r.doc and r.scope == "campaign"


def test_packs_follow_jurisdictions_and_channel():
    names = lambda f: [p.name for p in packs_for(f)]  # noqa: E731
    assert names(facts(jurisdictions=["RU", "EU"])) == ["consent", "RU", "EU", "bulk"]
    assert names(facts(jurisdictions=["uk"])) == ["consent", "EU", "bulk"]
    assert names(facts(jurisdictions=["US", "CA"], channel="sms")) == ["consent", "US", "CA", "channel"]
    assert names(facts(jurisdictions=[])) == ["consent", "bulk"]


def test_facts_accept_the_stored_campaign_document():
    f = facts(colour="red", recipients=["a@example.org"])  # unknown fields of later versions are ignored
    assert f.sender.from_ == "Shop News <news@shop.example>" and f.recipients == ["a@example.org"]
