"""The domain report: posture from real audits on the loopback DNS server, fixes, history."""

from __future__ import annotations

import pytest

from tests.auditor.campaigns.loop import DOMAIN, SELECTOR, SENDER_IP
from tests.conftest import Runner


def _audits(app) -> tuple:
    from auditor.monitoring.services import run_audit

    first = run_audit(app, DOMAIN, selectors=(SELECTOR,), ips=(SENDER_IP,))
    # A selector the zone does not publish: the second audit adds DKIM-KEY-MISSING.
    second = run_audit(app, DOMAIN, selectors=(SELECTOR, "gone"), ips=(SENDER_IP,))
    return first, second


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_domain_report_shows_posture_fixes_blocklists_and_the_change(loop, tools, tmp_path, lang):
    from checks.catalogue import rule

    first, second = _audits(loop.app)
    added = {f.rule_id for f in second.findings} - {f.rule_id for f in first.findings}
    assert "DKIM-KEY-MISSING" in added
    out = tmp_path / "d.pdf"
    res = Runner(loop.app).invoke(["report", "domain", DOMAIN, "--out", str(out), "--lang", lang])
    assert res.exit_code == 0, res.output
    text = tools.text(out)
    flat = " ".join(text.split())
    assert DOMAIN in text
    assert rule("DKIM-KEY-MISSING").title(lang) in flat
    fix = "Publish the selector's public key" if lang == "en" else "Опубликуйте открытый ключ селектора"
    assert fix in flat
    for b in second.blocklists:
        assert b["zone"] in text
    assert "v=spf1 ip4:192.0.2.10 -all" in flat
    history = "History of changes" if lang == "en" else "История изменений"
    assert flat.count(history) == 2  # in the contents and as the section
    assert flat.count("DKIM-KEY-MISSING") == 2  # the finding, and "new findings" of the second check
    from auditor.reports.services import domain_data

    data = domain_data(loop.app, DOMAIN)
    assert [h.added for h in data.history][1] == ["DKIM-KEY-MISSING"]
    assert len(data.history) == 2 and data.history[1].block == sum(f.severity == "block" for f in second.findings)
    assert tools.pages(out) >= 3


def test_domain_report_of_an_unaudited_domain_is_refused(loop, tmp_path):
    res = Runner(loop.app).invoke(["report", "domain", "never.example", "--out", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and "no stored audit" in res.output


def test_domain_report_finds_the_domain_however_it_is_typed_and_refuses_non_domains(loop, tmp_path):
    _audits(loop.app)
    ok = Runner(loop.app).invoke(["report", "domain", "SHOP.Example.", "--out", str(tmp_path / "d.pdf")])
    assert ok.exit_code == 0, ok.output
    bad = Runner(loop.app).invoke(["report", "domain", "not a domain", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 2 and "not a domain name" in bad.output
