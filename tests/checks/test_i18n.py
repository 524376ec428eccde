"""The translation path of finding details, rule titles, citations and remedies (Babel .po)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from checks.catalogue import RULES, _rule, finding, rule
from checks.domain_audit import DomainAudit
from checks.i18n import detail_of, format_when, msg, render


def _stored(f) -> dict:
    """A finding as a JSON column gives it back."""
    return json.loads(json.dumps(f.to_dict()))


def test_a_msg_detail_is_its_english_text_and_keeps_its_id_and_params_through_json() -> None:
    f = finding("MSG-NO-TEXT-PART", msg("the HTML part has no text/plain alternative"))
    assert f.detail == "the HTML part has no text/plain alternative"
    d = _stored(f)
    assert d["detail_msgid"] == "the HTML part has no text/plain alternative" and d["detail_params"] == {}
    assert detail_of(d, "ru") == "у HTML-части нет текстовой альтернативы (text/plain)"
    assert detail_of(d, "en") == f.detail


def test_a_stored_domain_audit_round_trip_keeps_the_msgid_and_renders_russian() -> None:
    f = finding("MSG-SIZE-CLIPPED", msg("HTML is {size} bytes (Gmail clips past {limit})", size=150000, limit=102400))
    audit = DomainAudit(target="example.org", kind="domain", findings=[f], records={}, blocklists=[],
                        checked_at=datetime(2026, 11, 30, tzinfo=UTC))
    again = DomainAudit.from_dict(json.loads(json.dumps(audit.to_dict())))
    back = again.findings[0]
    assert back == f and back.detail_msgid == f.detail_msgid and back.detail_params == {"size": 150000, "limit": 102400}
    # numbers written the Russian way (Babel): a no-break space groups thousands
    assert detail_of(back, "ru") == "HTML занимает 150\xa0000 байт (Gmail обрезает после 102\xa0400)"
    assert detail_of(back, "en") == "HTML is 150000 bytes (Gmail clips past 102400)"


def test_plural_forms_follow_the_count() -> None:
    forms = {n: detail_of(_stored(finding("MSG-HEADER-INVALID", msg("{count} Date headers", count=n))), "ru")
             for n in (1, 2, 5, 21, 11)}
    assert forms == {1: "1 заголовок Date", 2: "2 заголовка Date", 5: "5 заголовков Date",
                     21: "21 заголовок Date", 11: "11 заголовков Date"}


def test_nested_messages_and_lists_of_them_are_translated_each() -> None:
    m = msg("{problems}", problems=[msg("no List-Unsubscribe header"),
                                    msg("no List-Unsubscribe-Post: {value} header", value="List-Unsubscribe=One-Click")])
    assert m == "no List-Unsubscribe header; no List-Unsubscribe-Post: List-Unsubscribe=One-Click header"
    d = _stored(finding("MSG-ONE-CLICK-MISSING", m))
    assert detail_of(d, "ru") == ("нет заголовка List-Unsubscribe; "
                                  "нет заголовка List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    inner = msg("From domain {domain} (organisational {org}); DKIM: {dkim}; SPF domain: {spf}", domain="a.example",
                org="a.example", dkim=msg("no verifying DKIM signature"), spf=msg("unknown (no envelope or Return-Path)"))
    assert "DKIM: нет проходящей проверку подписи DKIM; домен SPF: неизвестен" in detail_of(
        _stored(finding("MSG-NOT-ALIGNED", inner)), "ru")


def test_old_rows_without_a_msgid_and_untranslated_templates_stay_english() -> None:
    old = {"rule_id": "MSG-NO-TEXT-PART", "severity": "info", "detail": "some text stored last year"}
    assert detail_of(old, "ru") == "some text stored last year"
    # an old row whose text is a parameterless msgid is still found in the catalogue
    assert detail_of({"detail": "no Date header"}, "ru") == "нет заголовка Date"
    unknown = _stored(finding("MSG-NO-TEXT-PART", msg("a template nobody translated {x}", x=1)))
    assert detail_of(unknown, "ru") == "a template nobody translated 1"
    # a translation naming a parameter the call does not give falls back to English, not a crash
    assert render("d=x s=y: boom", "ru", "d={d} s={s}: {error}", {"d": "x"}) == "d=x s=y: boom"


def test_titles_citations_and_remedies_come_from_the_catalogue() -> None:
    r = rule("RU-38FZ-18.1-MARKING")
    assert r.cite("ru") == "ст. 18.1 38-ФЗ" and r.cite("en") == "38-FZ art. 18.1"
    assert r.title("ru") == "Интернет-реклама без пометки «Реклама», рекламодателя или erid"
    assert rule("SPF-MISSING").fix("ru").startswith("Опубликуйте одну TXT-запись")
    assert rule("SPF-MISSING").title_ru == "Нет записи SPF"


def test_the_old_six_tuple_and_fix_pair_are_still_accepted() -> None:
    from checks import catalogue

    catalogue._FIXES["X-OLD"] = ("Do it.", "Сделайте это.")
    try:
        r = _rule(("dns", "X-OLD", "warn", "Old-style title", "Заголовок по-старому", "RFC 1"))
    finally:
        del catalogue._FIXES["X-OLD"]
    assert (r.title("ru"), r.fix("ru"), r.citation, r.fix("en")) == (
        "Заголовок по-старому", "Сделайте это.", "RFC 1", "Do it.")
    assert "X-OLD" not in RULES


def test_the_conversion_script_moves_russian_text_into_the_po(tmp_path) -> None:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "catalogue_to_po", Path(__file__).resolve().parents[2] / "scripts" / "catalogue_to_po.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    source = ('_RULES: list = [\n    ("dns", "A-B", "warn", "Title §1", "Заголовок", "RFC 1 §2"),\n'
              '    ("dns", "A-C", "warn", "New", "RFC 2"),\n]\n'
              '_FIXES: dict = {\n    "A-B": ("Fix «it».", "Исправьте."),\n    "A-C": "Plain.",\n}\n')
    out, pairs = mod.convert(source, {"New"})
    assert pairs == [("Title §1", "Заголовок"), ("Fix «it».", "Исправьте.")]
    assert '("dns", "A-B", "warn", "Title §1", "RFC 1 §2")' in out and '"A-B": "Fix «it».",' in out
    assert '("dns", "A-C", "warn", "New", "RFC 2")' in out and '"A-C": "Plain.",' in out


def test_dates_are_written_by_babel_for_the_locale() -> None:
    when = datetime(2026, 11, 30, 14, 5, 9, tzinfo=UTC)
    assert format_when(when, "en") == "Nov 30, 2026, 2:05:09\u202fPM UTC"
    assert format_when(when, "ru").replace("\u202f", " ") == "30 нояб. 2026 г., 14:05:09 UTC"
    assert format_when("2026-11-30T14:05:09+00:00", "ru", with_time=False).replace("\u202f", " ") == "30 нояб. 2026 г."
    assert format_when(None, "ru") == "—"


def test_localised_gives_an_api_the_whole_finding_in_the_readers_language() -> None:
    from checks.catalogue import localised

    d = _stored(finding("SPF-MISSING", msg("no DKIM-Signature header")))
    ru = localised(d, "ru")
    assert (ru["title"], ru["citation"], ru["detail"], ru["lang"]) == (
        "Нет записи SPF", "RFC 7208; правила Gmail/Yahoo для массовых отправителей", "нет заголовка DKIM-Signature", "ru")
    assert ru["remedy"].startswith("Опубликуйте") and ru["detail_msgid"] == d["detail_msgid"]
    assert localised(d, "en")["title"] == "No SPF record"
    assert localised({"rule_id": "X-UNKNOWN", "title": "kept", "detail": "old"}, "ru")["title"] == "kept"
