"""The campaign report: a campaign submitted and approved through the API, then reported."""

from __future__ import annotations

import pytest

from tests.conftest import Runner

pytest.importorskip("checks.rules", reason="campaign audits need checks.rules (message/rules area)")


def _approved_campaign(loop) -> tuple[int, dict]:
    from tests.auditor.campaigns.loop import campaign_doc

    for who in ("a@example.org", "b@example.org", "c@example.org"):
        loop.consented(who)
    loop.consent("c@example.org", "withdrawn")
    recipients = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    r = loop.submit(campaign_doc(recipients))
    assert r.status_code == 201, r.get_data(as_text=True)
    cid = r.json["id"]
    if r.json["status"] == "needs_review":
        assert loop.review(cid, "legal", "approve", "Проверено: согласия есть").status_code == 201
    view = loop.client.get(f"/api/v1/campaigns/{cid}", headers=loop.h("legal")).json
    return cid, view


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_campaign_report_states_verdict_reviews_findings_coverage_and_token_hash(loop, tools, tmp_path, lang):
    from checks.catalogue import rule

    cid, view = _approved_campaign(loop)
    out = tmp_path / "c.pdf"
    res = Runner(loop.app).invoke(["report", "campaign", str(cid), "--out", str(out), "--lang", lang])
    assert res.exit_code == 0, res.output
    flat = " ".join(tools.text(out).split())
    nospace = flat.replace(" ", "")
    assert view["content_sha256"] in nospace
    verdict = {"en": {"approved": "approved", "needs_review": "needs review", "blocked": "blocked"},
               "ru": {"approved": "одобрена", "needs_review": "требует проверки", "blocked": "заблокирована"}}
    assert verdict[lang][view["status"]] in flat
    consent = view["consent"]
    assert consent["allowed"] == 2 and consent["suppressed"] == 2
    for rid in consent["reasons"]:
        assert rid in flat and rule(rid).title(lang) in flat
    if view["approval"]:
        assert view["approval"]["token_id"] in nospace
    for f in view["findings"]:
        assert f["rule_id"] in flat
        assert rule(f["rule_id"]).title(lang) in flat
    for r in view["reviews"]:
        assert r["reviewer"] in flat
    assert "v=spf1 ip4:192.0.2.10 -all" in flat  # the sender's posture stored at audit time


def test_campaign_report_download_needs_a_reviewer_role(loop, tmp_path):
    cid, _view = _approved_campaign(loop)
    r = loop.client.get(f"/reports/campaign/{cid}.pdf?lang=ru", headers=loop.h("legal"))
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data[:5] == b"%PDF-"
    assert loop.client.get(f"/reports/campaign/{cid}.pdf", headers=loop.h("sender")).status_code == 403
    assert loop.client.get(f"/reports/campaign/{cid + 999}.pdf", headers=loop.h("legal")).status_code == 404
