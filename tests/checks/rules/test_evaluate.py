"""The packs over real inputs: a DKIM-signed message and a DNS posture from the loopback zone."""

from __future__ import annotations

from checks.domain_audit import audit_domain
from checks.message import check_message
from checks.rules import evaluate_campaign, load_policy
from tests.checks.message.conftest import DOMAIN, make_raw, zone
from tests.checks.rules.conftest import NOW, facts

TEXT = ("Реклама. OOO Shop, shop.example. erid: 2Vtzqx1abcd. Advertisement.\n"
        "1 Tverskaya St, Moscow 125009, Russia.\nUnsubscribe / отписаться: https://shop.example/u/abc\n")
HTML = ("<p>Реклама. OOO Shop, shop.example. Advertisement.</p><p>1 Tverskaya St, Moscow 125009, Russia</p>"
        '<p><a href="https://shop.example/u/abc">Отписаться / unsubscribe</a></p>')


def _inputs(dns_server, resolver_for, **raw_kw):
    resolver = resolver_for(dns_server(zone(), DOMAIN))
    message = check_message(make_raw(text=TEXT, html=HTML, **raw_kw), resolver=resolver, envelope_domain=DOMAIN)
    posture = audit_domain(DOMAIN, selectors=["s2048"], resolver=resolver, blocklists=[])
    return message, posture


def test_clean_signed_campaign_passes_every_pack(dns_server, resolver_for):
    message, posture = _inputs(dns_server, resolver_for)
    f = facts(jurisdictions=["RU", "EU", "US", "CA"], sender={"dkim_selectors": ["s2048"], "ips": []})
    found = evaluate_campaign(f, message=message, posture=posture, policy=load_policy(None), now=NOW)
    assert [x for x in found if x.severity != "info"] == [], [(x.rule_id, x.detail) for x in found]


def test_unsigned_campaign_fails_bulk_and_us_header(dns_server, resolver_for):
    message, posture = _inputs(dns_server, resolver_for, selector=None, list_unsubscribe=None, post=None)
    f = facts(jurisdictions=["US"], sender={"dkim_selectors": ["s2048"], "ips": []}, message={"ad_marking": None})
    found = {x.rule_id: x for x in evaluate_campaign(f, message=message, posture=posture,
                                                     policy=load_policy(None), now=NOW)}
    assert {"BULK-AUTH", "BULK-ONE-CLICK"} <= set(found)
    # the envelope domain still aligns: DMARC alignment holds through SPF
    assert "BULK-DMARC" not in found and "US-CANSPAM-HEADER" not in found
