"""POST /api/v1/messages/check: raw MIME in, findings out."""

from __future__ import annotations

from tests.auditor.campaigns.loop import build_loop, signed_message


def _post(loop, raw: bytes | str, content_type: str = "message/rfc822", query: str = ""):
    data = raw.encode() if isinstance(raw, str) else raw
    return loop.client.post(f"/api/v1/messages/check{query}", data=data, headers={
        **loop.h("checker"), "Content-Type": content_type})


def _loop(make_app, make_user, dns_server):
    loop = build_loop(make_app, make_user, dns_server)
    loop.keys["checker"] = make_user("checker@auditor.test", "security", scopes=["message:check"],
                                     target_app=loop.app)[1]
    return loop


def test_signed_marketing_message_passes_and_unsigned_one_is_blocked(make_app, make_user, dns_server):
    loop = _loop(make_app, make_user, dns_server)
    good = _post(loop, signed_message())
    assert good.status_code == 200, good.get_data(as_text=True)
    ids = {f["rule_id"] for f in good.json["findings"]}
    assert not ids & {"MSG-DKIM-UNSIGNED", "MSG-DKIM-FAIL", "MSG-ONE-CLICK-MISSING", "MSG-NOT-ALIGNED"}
    assert good.json["aligned"] and good.json["one_click"] and good.json["from_domain"] == "shop.example"

    bad = _post(loop, signed_message(sign=False, list_unsubscribe=False))
    ids = {f["rule_id"] for f in bad.json["findings"]}
    assert {"MSG-DKIM-UNSIGNED", "MSG-LIST-UNSUBSCRIBE-MISSING"} <= ids
    assert bad.json["verdict"] == "blocked"
    finding = next(f for f in bad.json["findings"] if f["rule_id"] == "MSG-DKIM-UNSIGNED")
    assert finding["citation"] and finding["title"]


def test_bad_input_is_a_problem_document(make_app, make_user, dns_server):
    loop = _loop(make_app, make_user, dns_server)
    empty = _post(loop, b"")
    assert empty.status_code == 422 and empty.mimetype == "application/problem+json"
    wrong = _post(loop, b"{}", content_type="application/json")
    assert wrong.status_code == 415
    unknown = _post(loop, signed_message(), query="?nonsense=1")
    assert unknown.status_code == 422
