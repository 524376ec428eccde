"""Builders for rule tests: facts, a consent state (duck-typed), a message report, a posture."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from checks.catalogue import finding
from checks.domain_audit import DomainAudit
from checks.message import MessageReport
from checks.rules import CampaignFacts, Policy, evaluate_campaign, recipient_findings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DOMAIN = "shop.example"


@dataclass(frozen=True)
class State:
    """Has the ConsentState attributes and nothing else: the rules must duck-type."""

    pseudonym: str = "p1"
    channel: str = "email"
    purpose: str = "marketing"
    status: str = "confirmed"
    confirmed: bool = True
    expires_at: datetime | None = None
    last_seq: int = 1
    updated_at: datetime = NOW - timedelta(days=10)
    granted_at: datetime | None = NOW - timedelta(days=20)
    method: str | None = "double-opt-in-form"
    evidence_complete: bool = True
    separate_document: bool | None = True
    pre_ticked: bool | None = False
    bundled: bool | None = False
    notice_version: str | None = "2025-09"


def state(**over: Any) -> State:
    """A good consent, changed by ``over``."""
    return replace(State(), **over)


def facts(**over: Any) -> CampaignFacts:
    """A clean RU email advertising campaign, changed by ``over`` (dicts merge one level)."""
    doc: dict[str, Any] = {
        "name": "November promo", "channel": "email", "purpose": "marketing", "advertising": True,
        "jurisdictions": ["RU"],
        "sender": {"from": f"Shop News <news@{DOMAIN}>", "domain": DOMAIN, "ips": ["192.0.2.10"],
                   "dkim_selectors": ["s1"], "legal_name": "OOO Shop",
                   "postal_address": "1 Tverskaya St, Moscow 125009, Russia", "inn": "7700000000",
                   "phone": "+74950000000", "website": f"https://{DOMAIN}", "processing_country": "RU"},
        "message": {"subject": "November offers", "ad_marking": {"label": "Реклама", "erid": "2Vtzqx1abcd"}},
        "unsubscribe": "own", "recipients": [],
    }
    for k, v in over.items():
        doc[k] = {**doc[k], **v} if isinstance(v, dict) and isinstance(doc.get(k), dict) else v
    return CampaignFacts.model_validate(doc)


def report(**over: Any) -> MessageReport:
    """A message report of a clean, signed, aligned marketing message."""
    base = MessageReport(
        findings=[], from_addr=f"news@{DOMAIN}", from_domain=DOMAIN,
        dkim=[{"d": DOMAIN, "s": "s1", "ok": True, "bits": 2048, "error": None,
               "covers": ["from", "list-unsubscribe", "list-unsubscribe-post"]}],
        links=[{"href": f"https://{DOMAIN}/u/1", "text": "Отписаться", "domain": DOMAIN, "visible": True}],
        spf_domain=DOMAIN, aligned=True, one_click=True, list_unsubscribe=f"<https://{DOMAIN}/u/1>",
        has_text_part=True, html_bytes=500, from_display="Shop News", subject="November offers",
        visible_text=("Реклама. OOO Shop, shop.example. Our offers. 1 Tverskaya St, Moscow 125009, Russia. "
                      "Отписаться"),
        unsubscribe_visible=f"link https://{DOMAIN}/u/1")
    return replace(base, **over)


def posture(*rule_ids: str) -> DomainAudit:
    """A domain audit holding findings of ``rule_ids``."""
    return DomainAudit(DOMAIN, "domain", [finding(r, "test") for r in rule_ids])


def campaign_ids(f: CampaignFacts, *, message: Any = "default", posture_: Any = None,
                 policy: Policy | None = None) -> set[str]:
    """Rule ids evaluate_campaign reports."""
    msg = report() if message == "default" else message
    return {x.rule_id for x in evaluate_campaign(f, message=msg, posture=posture_ or posture(),
                                                 policy=policy or Policy(), now=NOW)}


def recipient_ids(s: Any, f: CampaignFacts | None = None, policy: Policy | None = None) -> list[str]:
    """Rule ids recipient_findings reports, in order."""
    return [x.rule_id for x in recipient_findings(s, facts=f or facts(), policy=policy or Policy(), now=NOW)]
