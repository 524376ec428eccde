"""DKIM (dkimpy through the loopback resolver) and DMARC alignment of DKIM d= and the SPF domain."""

from __future__ import annotations

from checks.message.alignment import aligned, organisational_domain
from tests.checks.message.conftest import DEFAULT_HTML, DOMAIN, UNSUB_URL, ids, make_raw


def test_signed_with_2048_bit_key_verifies_and_aligns(check):
    report = check(make_raw(selector="s2048"))
    assert report.dkim == [{"d": DOMAIN, "s": "s2048", "ok": True, "bits": 2048, "error": None,
                            "covers": ["from", "to", "subject", "date", "message-id", "list-unsubscribe",
                                       "list-unsubscribe-post"]}]
    assert report.aligned
    assert not ids(report) & {"MSG-DKIM-UNSIGNED", "MSG-DKIM-FAIL", "MSG-NOT-ALIGNED"}


def test_unsigned_bulk_message_is_flagged_but_not_a_personal_one(check):
    assert "MSG-DKIM-UNSIGNED" in ids(check(make_raw(selector=None)))
    assert "MSG-DKIM-UNSIGNED" not in ids(check(make_raw(selector=None), bulk=False))


def test_body_changed_after_signing_fails(check):
    report = check(make_raw(tamper=lambda raw: raw.replace(b"November offers", b"December offers")))
    fails = [f for f in report.findings if f.rule_id == "MSG-DKIM-FAIL"]
    assert fails and fails[0].evidence["s"] == "s2048" and not report.dkim[0]["ok"]


def test_512_bit_key_is_refused(check):
    report = check(make_raw(selector="s512"))
    fail = next(f for f in report.findings if f.rule_id == "MSG-DKIM-FAIL")
    assert "too small" in fail.detail and fail.evidence["bits"] == 512


def test_1024_bit_key_still_verifies(check):
    report = check(make_raw(selector="s1024"))
    assert report.dkim[0]["ok"] and report.dkim[0]["bits"] == 1024
    assert "MSG-DKIM-FAIL" not in ids(report)


def test_revoked_or_missing_key_fails(check):
    for selector in ("revoked", "absent"):
        fail = next(f for f in check(make_raw(selector=selector)).findings if f.rule_id == "MSG-DKIM-FAIL")
        assert "no usable key" in fail.detail


def test_signature_of_another_domain_does_not_align(check):
    raw = make_raw(from_="News <news@other.example>")
    report = check(raw)
    assert report.dkim[0]["ok"]  # d=shop.example verifies...
    assert "MSG-NOT-ALIGNED" in ids(report)  # ...but From is on other.example


def test_envelope_domain_aligns_an_unsigned_message(check):
    raw = make_raw(selector=None, from_="News <news@mail.shop.example>")
    assert "MSG-NOT-ALIGNED" not in ids(check(raw, envelope_domain="bounce.shop.example"))
    assert "MSG-NOT-ALIGNED" in ids(check(raw, envelope_domain="esp.example"))


def test_return_path_is_the_spf_domain_when_no_envelope_is_given(check):
    raw = make_raw(selector=None, extra={"Return-Path": "<bounce@shop.example>"})
    report = check(raw)
    assert report.spf_domain == DOMAIN and report.aligned


def test_relaxed_alignment_uses_the_public_suffix_list():
    assert organisational_domain("news.shop.co.uk") == "shop.co.uk"
    assert aligned("mail.shop.co.uk", "shop.co.uk")
    assert not aligned("a.github.io", "b.github.io")  # a private suffix: different owners
    assert not aligned(None, "shop.example")


def test_message_built_from_parts_is_signed_at_send_time(check):
    from checks.message import build_message

    msg = build_message(from_=f"News <news@{DOMAIN}>", subject="Offers", html=DEFAULT_HTML, text="Offers. Unsubscribe",
                        headers={"List-Unsubscribe": f"<{UNSUB_URL}>",
                                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    report = check(msg, envelope_domain=DOMAIN)
    assert report.signed_at_send and report.one_click and report.aligned
    assert not ids(report) & {"MSG-DKIM-UNSIGNED", "MSG-ONE-CLICK-MISSING", "MSG-NOT-ALIGNED"}
    # the same message as raw bytes is what will be sent: unsigned, one-click not covered
    raw = check(msg.as_bytes(), envelope_domain=DOMAIN)
    assert not raw.signed_at_send and {"MSG-DKIM-UNSIGNED", "MSG-ONE-CLICK-MISSING"} <= ids(raw)
