"""``auditor check campaign FILE.json``: the same audit from the command line, nothing stored."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from auditor.campaigns.models import Campaign
from tests.auditor.campaigns.loop import campaign_doc, signed_message
from tests.conftest import Runner


def test_check_campaign_json_clean(loop, tmp_path):
    loop.consented("anna@example.org")
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps(campaign_doc(["anna@example.org", "nobody@example.org"])), encoding="utf-8")
    result = Runner(loop.app).invoke(["check", "campaign", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["status"] == "needs_review" and out["consent"]["allowed"] == 1
    assert out["consent"]["reasons"]["CONSENT-NONE"] == 1
    with loop.app.extensions["auditor"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0


def test_check_campaign_blocked_exits_1_with_findings(loop, tmp_path):
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps(campaign_doc([], message={"raw": signed_message(sign=False)})), encoding="utf-8")
    result = Runner(loop.app).invoke(["check", "campaign", str(path)])
    assert result.exit_code == 1
    assert "BLOCKED" in result.output and "MSG-DKIM-UNSIGNED" in result.output


def test_check_campaign_bad_input_exits_2(loop, tmp_path):
    path = tmp_path / "campaign.json"
    path.write_text('{"name": "x", "colour": 1}', encoding="utf-8")
    result = Runner(loop.app).invoke(["check", "campaign", str(path)])
    assert result.exit_code == 2
    path.write_text("{not json", encoding="utf-8")
    assert Runner(loop.app).invoke(["check", "campaign", str(path)]).exit_code == 2
    assert Runner(loop.app).invoke(["check", "campaign", str(tmp_path / "missing.json")]).exit_code == 2
