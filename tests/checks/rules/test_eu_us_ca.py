"""EU/UK, US and CA packs — each id both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checks.rules import Policy
from tests.checks.rules.conftest import NOW, campaign_ids, facts, recipient_ids, report, state

EU, US, CA = facts(jurisdictions=["EU"]), facts(jurisdictions=["US"]), facts(jurisdictions=["CA"])


# --- EU / UK ---------------------------------------------------------------------------------

def test_eu_good_consent_passes():
    assert recipient_ids(state(), EU) == []


@pytest.mark.parametrize("j", ["EU", "UK"])
def test_eprivacy_without_consent(j):
    assert "EU-EPRIVACY-13-CONSENT" in recipient_ids(None, facts(jurisdictions=[j]))
    assert "EU-EPRIVACY-13-CONSENT" in recipient_ids(state(status="withdrawn"), facts(jurisdictions=[j]))


def test_soft_opt_in_only_when_policy_allows():
    customer = state(method="soft-opt-in", evidence_complete=False, confirmed=False, status="granted")
    assert "EU-EPRIVACY-13-CONSENT" in recipient_ids(customer, EU)
    found = recipient_ids(customer, EU, Policy(soft_opt_in=True))
    assert "EU-EPRIVACY-13-CONSENT" not in found and "EU-GDPR-7-DEMONSTRABLE" not in found


def test_demonstrable_consent():
    assert "EU-GDPR-7-DEMONSTRABLE" in recipient_ids(state(evidence_complete=False), EU)
    assert "EU-GDPR-7-DEMONSTRABLE" not in recipient_ids(state(), EU)


@pytest.mark.parametrize("flaw", [{"pre_ticked": True}, {"bundled": True}])
def test_consent_quality(flaw):
    assert "EU-GDPR-CONSENT-QUALITY" in recipient_ids(state(**flaw), EU)


# --- US --------------------------------------------------------------------------------------

def test_us_clean_campaign():
    assert not {i for i in campaign_ids(US) if i.startswith("US-")}


def test_opt_out_missing():
    assert "US-CANSPAM-OPT-OUT" in campaign_ids(US, message=report(unsubscribe_visible=None))


@pytest.mark.parametrize("address", [None, "", "Moscow"])
def test_postal_address_missing_or_invalid(address):
    assert "US-CANSPAM-ADDRESS" in campaign_ids(facts(jurisdictions=["US"], sender={"postal_address": address}))


def test_postal_address_must_appear_in_the_message():
    m = report(visible_text="Advertisement. Our offers. Unsubscribe")
    assert "US-CANSPAM-ADDRESS" in campaign_ids(US, message=m)


def test_ad_label():
    m = report(visible_text="Our offers. 1 Tverskaya St, Moscow 125009, Russia", subject="Offers")
    assert "US-CANSPAM-AD-LABEL" in campaign_ids(US, message=m)
    m2 = report(visible_text="Advertisement. Our offers. 1 Tverskaya St, Moscow 125009, Russia")
    assert "US-CANSPAM-AD-LABEL" not in campaign_ids(US, message=m2)


@pytest.mark.parametrize("over", [
    {"from_domain": "other.example", "from_addr": "x@other.example"},
    {"from_display": "service@paypal.example"},
    {"aligned": False},
])
def test_misleading_header(over):
    assert "US-CANSPAM-HEADER" in campaign_ids(US, message=report(**over))


@pytest.mark.parametrize(("subject", "thread", "hit"), [
    ("RE: your order", False, True), ("Fwd: offer", False, True), ("Ответ: заказ", False, True),
    ("RE: your order", True, False), ("Regarding offers", False, False),
])
def test_fake_reply_subject(subject, thread, hit):
    ids = campaign_ids(US, message=report(subject=subject, in_reply_to=thread))
    assert ("US-CANSPAM-SUBJECT" in ids) is hit


# --- CA --------------------------------------------------------------------------------------

def test_casl_consent():
    assert "CA-CASL-CONSENT" in recipient_ids(None, CA)
    assert "CA-CASL-CONSENT" not in recipient_ids(state(), CA)
    # Implied consent is judged from its claimed time (s. 10(10)), not by an expiry being recorded.
    assert "CA-CASL-CONSENT" not in recipient_ids(state(method="implied-purchase", expires_at=None), CA)
    old = state(method="implied-purchase", expires_at=None, granted_at=NOW - timedelta(days=731))
    assert "CA-CASL-CONSENT" in recipient_ids(old, CA)
    assert "CA-CASL-CONSENT" not in recipient_ids(state(method="implied-purchase",
                                                        expires_at=NOW + timedelta(days=300)), CA)
    lapsed = state(method="implied-inquiry", expires_at=NOW - timedelta(days=1))
    assert "CA-CASL-CONSENT" in recipient_ids(lapsed, CA)


def test_casl_identification():
    assert "CA-CASL-IDENTIFICATION" not in campaign_ids(CA)
    bare = facts(jurisdictions=["CA"], sender={"legal_name": None, "postal_address": None, "phone": None,
                                               "website": None, "from": "noreply@shop.example"})
    found = campaign_ids(bare, message=report(from_addr="noreply@shop.example"))
    assert "CA-CASL-IDENTIFICATION" in found


def test_casl_unsubscribe():
    assert "CA-CASL-UNSUBSCRIBE" in campaign_ids(CA, message=report(unsubscribe_visible=None))
    assert "CA-CASL-UNSUBSCRIBE" not in campaign_ids(CA)
