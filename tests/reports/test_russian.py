"""A Russian report reads in Russian: details, citations, labels, roles and decisions (pdftotext)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Runner

pytest.importorskip("checks.rules", reason="campaign audits need checks.rules (message/rules area)")

OUT = Path(__file__).resolve().parents[2] / "test-output" / "reports"
# Words that make a run of Latin words an English sentence rather than a record, key or name.
ENGLISH = {"the", "a", "an", "is", "are", "of", "to", "and", "not", "no", "has", "have", "with", "for", "by",
           "from", "at", "must", "does", "without", "than", "or", "on", "be", "was", "were", "this", "that"}
# What a report legitimately prints in Latin letters: the test campaign's own texts, commands.
ALLOWED = ("Our November offers", "Shop News", "November promo", "November offers")


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def english_sentences(text: str, excused: tuple[str, ...] = ()) -> list[str]:
    """Runs of three or more Latin words with an English function word among them (runs that
    lie inside an ``excused`` text are left out; pdftotext may drop a hyphen at a line end)."""
    for allowed in ALLOWED:
        text = text.replace(allowed, " ")
    runs = re.findall(r"(?:\b[A-Za-z][a-z']*\b[ ,;:]+){2,}\b[A-Za-z][a-z']*\b", text)
    found = [r for r in runs if ENGLISH & {w.lower() for w in re.findall(r"[A-Za-z']+", r)}]
    keys = [_letters(e) for e in excused]
    return [r for r in found if not any(_letters(r) in k for k in keys)]


def _strings(value: object) -> list[str]:
    """Every text inside an evidence value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _campaigns(loop) -> tuple[int, int]:
    from tests.auditor.campaigns.loop import campaign_doc, signed_message

    for who in ("a@example.org", "b@example.org"):
        loop.consented(who)
    ok = loop.submit(campaign_doc(["a@example.org", "b@example.org", "c@example.org"]))
    assert ok.status_code == 201, ok.get_data(as_text=True)
    if ok.json["status"] == "needs_review":
        assert loop.review(ok.json["id"], "legal", "approve", "Проверено").status_code == 201
    bad = loop.submit(campaign_doc(["a@example.org"], message={
        "raw": signed_message(list_unsubscribe=False, sign=False), "ad_marking": {"label": "Реклама"}}))
    assert bad.status_code == 201, bad.get_data(as_text=True)
    return ok.json["id"], bad.json["id"]


def test_a_russian_campaign_report_has_no_english_sentence(loop, tools, tmp_path) -> None:
    ok, bad = _campaigns(loop)
    OUT.mkdir(parents=True, exist_ok=True)
    texts = {}
    for cid in (ok, bad):
        out = OUT / f"campaign-{cid}-ru.pdf"
        res = Runner(loop.app).invoke(["report", "campaign", str(cid), "--out", str(out), "--lang", "ru"])
        assert res.exit_code == 0, res.output
        texts[cid] = " ".join(tools.text(out).split())
    for cid, flat in texts.items():
        # Details written before checks gave msgids (plain text, no detail_msgid) stay English by
        # design, and evidence is data; every detail with a msgid must read in Russian.
        view = loop.client.get(f"/api/v1/campaigns/{cid}", headers=loop.h("legal")).json
        old = tuple(f["detail"] for f in view["findings"] if not f.get("detail_msgid"))
        old += tuple(s for f in view["findings"] for s in _strings(f.get("evidence")))
        assert english_sentences(flat, old) == [], cid
    approved, blocked = texts[ok], texts[bad]
    assert "юрист" in approved and "одобрено" in approved and "Подано на проверку" in approved
    assert "Отправлено" not in approved and "одобрить" not in approved
    # the blocked campaign's details and citations, in Russian
    assert "нет заголовка DKIM-Signature" in blocked
    assert "в рекламном письме должен быть заголовок List-Unsubscribe" in blocked
    assert "Основание: RFC 2369; правила Gmail/Yahoo" in blocked
    assert "Объект: сообщение" in blocked and "Объект: message" not in blocked
    assert re.search(r"\d{1,2} [а-я]{3,4}\. 20\d\d", blocked)  # dates written by Babel in Russian


def test_the_english_report_keeps_english_details(loop, tools, tmp_path) -> None:
    _ok, bad = _campaigns(loop)
    out = tmp_path / "en.pdf"
    assert Runner(loop.app).invoke(["report", "campaign", str(bad), "--out", str(out), "--lang", "en"]).exit_code == 0
    flat = " ".join(tools.text(out).split())
    assert "no DKIM-Signature header" in flat and "Citation: RFC 2369; Gmail/Yahoo rules" in flat


def test_the_detector_finds_an_english_sentence() -> None:
    assert english_sentences("Домен: a marketing message must carry List-Unsubscribe") != []
    assert english_sentences("v=spf1 ip4:192.0.2.10 -all; Message-ID; ст. 18.1 38-ФЗ") == []


def test_russian_domain_subject_and_period_reports_have_no_english_sentence(loop, tools) -> None:
    from auditor.monitoring.services import run_audit
    from tests.auditor.campaigns.loop import DOMAIN, SELECTOR, SENDER_IP

    audit = run_audit(loop.app, DOMAIN, selectors=(SELECTOR, "gone"), ips=(SENDER_IP,))
    old = tuple(f.detail for f in audit.findings if not f.detail_msgid)
    old += tuple(s for f in audit.findings for s in _strings(f.evidence))
    loop.consent("ivan@example.org", "granted")
    loop.consent("ivan@example.org", "withdrawn", method="one-click", claimed_at="2026-11-10T08:00:00+00:00")
    _campaigns(loop)
    OUT.mkdir(parents=True, exist_ok=True)
    runs = {"domain": ["domain", DOMAIN], "subject": ["subject", "ivan@example.org"],
            "period": ["period", "--from", "2026-11-01", "--to", "2026-12-31"]}
    for name, args in runs.items():
        out = OUT / f"{name}-ru.pdf"
        res = Runner(loop.app).invoke(["report", *args, "--out", str(out), "--lang", "ru"])
        assert res.exit_code == 0, res.output
        flat = " ".join(tools.text(out).split())
        assert english_sentences(flat, old) == [], name
        assert "стр. 1 из" in flat
    subject = " ".join(tools.text(OUT / "subject-ru.pdf").split())
    assert "эл. почта / реклама и маркетинг" in subject
    assert "согласие отозвано" in subject
