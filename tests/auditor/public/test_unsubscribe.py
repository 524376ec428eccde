"""Unsubscribe as recipients and mailbox providers do it: the page, and RFC 8058 one-click."""

from __future__ import annotations

import base64

import pytest

from tests.auditor.campaigns.loop import build_loop

PEOPLE = ["anna@example.org", "boris@example.org"]


def _setup(loop):
    for p in PEOPLE:
        loop.consented(p)
    _cid, token = loop.approved(PEOPLE)
    allowed = loop.gate(token, PEOPLE).json["allowed"]
    paths = {a["recipient"]: a["unsubscribe_url"].removeprefix("http://127.0.0.1:8000") for a in allowed}
    return token, paths


def _allowed(loop, token) -> list[str]:
    return [a["recipient"] for a in loop.gate(token, PEOPLE).json["allowed"]]


def test_one_click_as_gmail_sends_it_suppresses_at_the_next_gate_call(loop):
    token, paths = _setup(loop)
    r = loop.client.post(paths["boris@example.org"], data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded",
                         headers={"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"})
    assert r.status_code == 200
    assert _allowed(loop, token) == ["anna@example.org"]


def test_one_click_multipart_variant(loop):
    token, paths = _setup(loop)
    r = loop.client.post(paths["anna@example.org"], data={"List-Unsubscribe": "One-Click"},
                         content_type="multipart/form-data")
    assert r.status_code == 200
    assert _allowed(loop, token) == ["boris@example.org"]


def test_one_click_twice_is_still_200(loop):
    token, paths = _setup(loop)
    for _ in range(2):
        r = loop.client.post(paths["anna@example.org"], data="List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
        assert r.status_code == 200
    assert _allowed(loop, token) == ["boris@example.org"]


def test_page_is_bilingual_and_a_get_does_not_unsubscribe(loop):
    token, paths = _setup(loop)
    r = loop.client.get(paths["anna@example.org"], headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "Отписаться" in page and "Unsubscribe" in page and "anna@example.org" not in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page and 'method="post"' in page
    assert _allowed(loop, token) == PEOPLE
    r = loop.client.post(paths["anna@example.org"], data={"List-Unsubscribe": "One-Click", "source": "page"})
    assert r.status_code == 200 and "Вы отписаны" in r.get_data(as_text=True)
    assert _allowed(loop, token) == ["boris@example.org"]
    again = loop.client.get(paths["anna@example.org"]).get_data(as_text=True)
    assert "already unsubscribed" in again


def test_post_without_the_one_click_body_is_400(loop):
    token, paths = _setup(loop)
    r = loop.client.post(paths["anna@example.org"], data="", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert _allowed(loop, token) == PEOPLE


def _flip(path: str, index: int) -> str:
    token = path.removeprefix("/u/")
    blob = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    blob[index] ^= 0x01
    return "/u/" + base64.urlsafe_b64encode(bytes(blob)).rstrip(b"=").decode()


@pytest.mark.parametrize("index", [4, 8, -20, -1])
def test_forged_or_other_recipient_tokens_are_403(loop, index):
    token, paths = _setup(loop)
    forged = _flip(paths["anna@example.org"], index)
    r = loop.client.post(forged, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert loop.client.get(forged, headers={"Accept": "application/json"}).status_code == 403
    assert loop.client.get(forged, headers={"Accept": "text/html"}).status_code == 403
    assert _allowed(loop, token) == PEOPLE


def test_one_click_works_with_csrf_protection_on(make_app, make_user, dns_server):
    loop = build_loop(make_app, make_user, dns_server, WTF_CSRF_ENABLED=True)
    token, paths = _setup(loop)
    r = loop.client.post(paths["boris@example.org"], data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    assert _allowed(loop, token) == ["anna@example.org"]
