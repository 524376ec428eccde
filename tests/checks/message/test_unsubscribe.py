"""List-Unsubscribe, RFC 8058 one-click and its DKIM coverage, the visible unsubscribe link."""

from __future__ import annotations

import pytest

from tests.checks.message.conftest import UNSUB_URL, ids, make_raw


def test_complete_one_click_passes(check):
    report = check(make_raw())
    assert report.one_click and report.list_unsubscribe.startswith(f"<{UNSUB_URL}>")
    assert not ids(report) & {"MSG-LIST-UNSUBSCRIBE-MISSING", "MSG-ONE-CLICK-MISSING", "MSG-UNSUBSCRIBE-LINK-MISSING"}


def test_marketing_without_list_unsubscribe(check):
    report = check(make_raw(list_unsubscribe=None, post=None, sign_headers=["from", "subject", "date"]))
    assert {"MSG-LIST-UNSUBSCRIBE-MISSING", "MSG-ONE-CLICK-MISSING"} <= ids(report)
    # a message that is not marketing needs neither
    assert not ids(check(make_raw(list_unsubscribe=None, post=None), marketing=False)) & {
        "MSG-LIST-UNSUBSCRIBE-MISSING", "MSG-ONE-CLICK-MISSING"}


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"post": None}, "no List-Unsubscribe-Post"),
    ({"post": "One-Click"}, "not 'List-Unsubscribe=One-Click'"),
    ({"list_unsubscribe": "<mailto:unsub@shop.example>"}, "no https URI"),
    ({"list_unsubscribe": f"<{UNSUB_URL.replace('https', 'http')}>"}, "no https URI"),
    ({"sign_headers": ["from", "subject", "date", "message-id", "list-unsubscribe"]}, "not both covered"),
    ({"selector": None}, "not both covered"),
])
def test_one_click_missing_when_any_part_is_wanting(check, kwargs, problem):
    report = check(make_raw(**kwargs))
    found = [f for f in report.findings if f.rule_id == "MSG-ONE-CLICK-MISSING"]
    assert found and problem in found[0].detail, [f.detail for f in found]
    assert not report.one_click


def test_headers_added_after_signing_are_not_covered(check):
    raw = make_raw(list_unsubscribe=None, post=None, sign_headers=["from", "subject", "date"])
    raw = (f"List-Unsubscribe: <{UNSUB_URL}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
           .encode() + raw)
    report = check(raw)
    assert report.dkim[0]["ok"] and "MSG-ONE-CLICK-MISSING" in ids(report)


@pytest.mark.parametrize("html", [
    '<p>Не хотите писем? <a href="https://shop.example/x">Отписаться</a></p>',
    "<p>Чтобы отказаться от рассылки, ответьте на это письмо словом STOP.</p>",
    '<p>To opt out, <a href="https://shop.example/prefs">click here</a>.</p>',
    '<p><a href="https://shop.example/unsubscribe?u=1">here</a></p>',
])
def test_visible_unsubscribe_in_russian_or_english(check, html):
    assert "MSG-UNSUBSCRIBE-LINK-MISSING" not in ids(check(make_raw(html=html, text="Offers.")))


@pytest.mark.parametrize("html", [
    "<p>Our offers only.</p>",
    '<p>Offers</p><div style="display:none"><a href="https://shop.example/unsubscribe">Unsubscribe</a></div>',
    '<p>Offers</p><span style="font-size:0">отписаться</span>',
    "<head><title>unsubscribe</title></head><p>Offers</p><!-- unsubscribe -->",
])
def test_hidden_or_absent_unsubscribe_is_missing(check, html):
    report = check(make_raw(html=html, text="Unsubscribe: https://shop.example/u"))
    assert "MSG-UNSUBSCRIBE-LINK-MISSING" in ids(report)  # readers see the HTML, not the text part


def test_text_only_message_with_instruction(check):
    assert "MSG-UNSUBSCRIBE-LINK-MISSING" not in ids(check(make_raw(html=None)))
    report = check(make_raw(html=None, text="Offers only."))
    assert "MSG-UNSUBSCRIBE-LINK-MISSING" in ids(report)
