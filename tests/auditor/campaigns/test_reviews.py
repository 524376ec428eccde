"""Reviews: the right roles only, four eyes, comments on rejection, policy sign-offs, audit log."""

from __future__ import annotations

import json

from sqlalchemy import select

from auditor.accounts.models import AuditEntry
from tests.auditor.campaigns.loop import build_loop, campaign_doc, signed_message


def _submit(loop, who: str = "sender", **over) -> int:
    r = loop.submit(campaign_doc(["anna@example.org"], **over), who=who)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json["id"]


def test_sender_cannot_review(loop):
    cid = _submit(loop)
    r = loop.review(cid, "sender2", "approve")
    assert r.status_code == 403 and r.mimetype == "application/problem+json"


def test_submitter_cannot_approve_own_campaign(loop):
    cid = _submit(loop, who="admin")
    r = loop.review(cid, "admin", "approve")
    assert r.status_code == 403 and "four eyes" in r.json["detail"]
    assert loop.review(cid, "legal", "approve").json["status"] == "approved"


def test_rejection_needs_a_comment_and_is_final(loop):
    cid = _submit(loop)
    r = loop.review(cid, "security", "reject")
    assert r.status_code == 422 and "comment" in r.json["detail"]
    r = loop.review(cid, "security", "reject", "DKIM key rotation pending")
    assert r.status_code == 201 and r.json["status"] == "rejected"
    assert r.json["reviews"][0]["comment"] == "DKIM key rotation pending"
    assert loop.review(cid, "legal", "approve").status_code == 409
    assert loop.token(cid) is None


def test_blocked_campaign_cannot_be_approved(loop):
    cid = _submit(loop, message={"raw": signed_message(sign=False)})
    assert loop.client.get(f"/api/v1/campaigns/{cid}", headers=loop.h("legal")).json["status"] == "blocked"
    r = loop.review(cid, "legal", "approve")
    assert r.status_code == 409 and "blocked" in r.json["detail"]
    assert loop.review(cid, "legal", "reject", "unsigned").json["status"] == "rejected"


def test_token_is_shown_to_the_submitter_only(loop):
    cid = _submit(loop)
    assert loop.review(cid, "legal", "approve").status_code == 201
    assert loop.token(cid, "sender").startswith("apv1.")
    assert loop.token(cid, "legal") is None
    assert loop.token(cid, "sender2") is None


def test_policy_can_require_legal_and_security(make_app, make_user, dns_server, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"require_legal_and_security": True}))
    loop = build_loop(make_app, make_user, dns_server, policy_file=str(policy))
    cid = _submit(loop)
    r = loop.review(cid, "legal", "approve", "legal ok")
    assert r.status_code == 201 and r.json["status"] == "needs_review"
    assert loop.review(cid, "legal", "approve").status_code == 409  # the same person twice is not two
    r = loop.review(cid, "security", "approve", "posture ok")
    assert r.json["status"] == "approved" and r.json["approval"]["token_id"]


def test_policy_auto_approves_only_when_nothing_is_above_info(make_app, make_user, dns_server, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"auto_approve": True}))
    loop = build_loop(make_app, make_user, dns_server, policy_file=str(policy))
    loop.consented("anna@example.org")
    r = loop.submit(campaign_doc(["anna@example.org"]))
    assert r.json["status"] == "approved", r.json["findings"]
    assert r.json["approval"]["token"].startswith("apv1.")
    r = loop.submit(campaign_doc(["anna@example.org"], jurisdictions=["US"],
                                 sender={**campaign_doc([])["sender"], "postal_address": None}))
    assert r.json["status"] != "approved"


def test_every_decision_is_in_the_audit_log(loop):
    cid = _submit(loop)
    loop.review(cid, "security", "approve", "fine")
    loop.client.post(f"/api/v1/campaigns/{cid}/approval/revoke", json={"reason": "list bought"},
                     headers=loop.h("legal"))
    with loop.app.extensions["auditor"].sessions() as s:
        actions = [(e.action, e.target) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    target = f"campaign:{cid}"
    for action in ("campaign.submit", "campaign.review.approve", "campaign.approve", "approval_token.revoke"):
        assert (action, target) in actions, actions


def test_revocation_is_for_reviewers(loop):
    cid = _submit(loop)
    loop.review(cid, "legal", "approve")
    r = loop.client.post(f"/api/v1/campaigns/{cid}/approval/revoke", json={"reason": "x"},
                         headers=loop.h("sender"))
    assert r.status_code == 403
    r = loop.client.post(f"/api/v1/campaigns/{cid}/approval/revoke", json={"reason": "wrong list"},
                         headers=loop.h("security"))
    assert r.status_code == 200 and len(r.json["revoked"]) == 1
    view = loop.client.get(f"/api/v1/campaigns/{cid}", headers=loop.h("sender")).json
    assert view["approval"]["revoked"] is True and view["approval"]["token"] is None


def test_unknown_campaign_is_404(loop):
    r = loop.client.get("/api/v1/campaigns/999", headers=loop.h("sender"))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert loop.review(999, "legal", "approve").status_code == 404


def test_review_queue_lists_campaigns_needing_review(loop):
    first = _submit(loop)
    blocked = _submit(loop, message={"raw": signed_message(sign=False)})
    r = loop.client.get("/api/v1/campaigns?status=needs_review", headers=loop.h("legal"))
    assert r.status_code == 200
    assert [c["id"] for c in r.json["campaigns"]] == [first]
    every = loop.client.get("/api/v1/campaigns", headers=loop.h("legal")).json["campaigns"]
    assert [c["id"] for c in every] == [blocked, first]
    assert loop.client.get("/api/v1/campaigns?status=maybe", headers=loop.h("legal")).status_code == 422


def test_a_severity_the_policy_changed_shows_in_the_campaigns_coverage(make_app, make_user, dns_server, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"severities": {"CONSENT-EVIDENCE-WEAK": {
        "severity": "info", "reason": "legacy CRM rows, re-consent campaign under way"}}}))
    loop = build_loop(make_app, make_user, dns_server, policy_file=str(policy))
    loop.consented("anna@example.org")
    cid = loop.submit(campaign_doc(["anna@example.org"])).json["id"]
    consent = loop.client.get(f"/api/v1/campaigns/{cid}", headers=loop.h("legal")).json["consent"]
    assert consent["policy"] == [{"rule_id": "CONSENT-EVIDENCE-WEAK", "from": "warn", "to": "info",
                                  "reason": "legacy CRM rows, re-consent campaign under way"}]
    unchanged = build_loop(make_app, make_user, dns_server)
    unchanged.consented("anna@example.org")
    cid = unchanged.submit(campaign_doc(["anna@example.org"])).json["id"]
    assert unchanged.client.get(f"/api/v1/campaigns/{cid}", headers=unchanged.h("legal")).json["consent"]["policy"] == []
