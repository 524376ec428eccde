"""A campaign whose raw message is DKIM-signed teaches Auditor the selector (origin "message")."""

from __future__ import annotations

from auditor.dmarc.selectors import list_selectors
from checks.dns_auth.selectors import selectors_signed_in
from tests.auditor.campaigns.loop import DOMAIN, SELECTOR, campaign_doc, loop, signed_message  # noqa: F401


def test_selectors_signed_in_takes_only_the_domains_signatures():
    raw = ("DKIM-Signature: v=1; a=rsa-sha256; d=shop.example; s=S1; h=from; bh=x; b=y\r\n"
           "DKIM-Signature: v=1; a=rsa-sha256; d=esp.example; s=esp1; h=from; bh=x; b=y\r\n"
           "From: a@shop.example\r\n\r\nhi\r\n")
    assert selectors_signed_in(raw, "shop.example") == ["s1"]
    assert selectors_signed_in("From: a@shop.example\r\n\r\nhi\r\n", "shop.example") == []


def test_submitted_campaign_teaches_its_signing_selector(loop):  # noqa: F811
    loop.consented("anna@example.org")
    r = loop.submit(campaign_doc(["anna@example.org"], message={"raw": signed_message()}))
    assert r.status_code == 201, r.get_data(as_text=True)
    with loop.app.extensions["auditor"].sessions() as s:
        sels = list_selectors(s, DOMAIN)
    assert [(x["selector"], x["origins"]) for x in sels] == [(SELECTOR, ["message"])]
