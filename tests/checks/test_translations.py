"""Every text a reader sees has its Russian: rule titles, citations, remedies, every msg() detail
in the code, every UI string; a finding of every rule renders in both languages."""

from __future__ import annotations

import ast
import html
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from checks.catalogue import CITATION_PARTS, RULES, citation_translated
from checks.i18n import CHECKS, Message, has_entry, render, translations

ROOT = Path(__file__).resolve().parents[2]
CODE = ("checks", "consent_ledger", "auditor", "reports")


def _catalogue(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale="ru")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def msg_calls() -> list[tuple[str, int, str]]:
    """(file, line, template) of every ``msg("...")`` call in the project's code (AST scan)."""
    out = []
    for package in CODE:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "msg"
                        and node.args and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    out.append((str(path.relative_to(ROOT)), node.lineno, node.args[0].value))
    return out


def test_the_scan_finds_the_message_checks_templates() -> None:
    found = {t for _, _, t in msg_calls()}
    assert "no DKIM-Signature header" in found and "{count} Date headers" in found


def test_every_msg_template_in_the_code_has_a_russian_entry() -> None:
    t = translations(str(CHECKS), "checks", "ru")
    missing = [f"{f}:{line}: {tpl!r}" for f, line, tpl in msg_calls() if not has_entry(t, tpl)]
    assert missing == [], "add these msgids to checks/translations/ru/LC_MESSAGES/checks.po:\n" + "\n".join(missing)


@pytest.mark.parametrize("po", [CHECKS / "ru/LC_MESSAGES/checks.po",
                                ROOT / "reports/translations/ru/LC_MESSAGES/reports.po",
                                ROOT / "auditor/ui/translations/ru/LC_MESSAGES/messages.po"], ids=lambda p: p.name)
def test_every_entry_is_translated_and_keeps_its_placeholders(po: Path) -> None:
    bad = []
    for m in _catalogue(po):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strs = m.string if isinstance(m.string, tuple) else (m.string,)
        if any(not s for s in strs) or m.fuzzy:
            bad.append(f"untranslated: {ids[0]!r}")
        for s in strs:
            if _fields(s) != _fields(ids[0]) or set(re.findall(r"%\(\w+\)s", s)) != set(re.findall(r"%\(\w+\)s", ids[0])):
                bad.append(f"placeholders differ: {ids[0]!r} -> {s!r}")
    assert bad == []


def test_every_rule_has_a_russian_title_citation_and_remedy() -> None:
    t = translations(str(CHECKS), "checks", "ru")
    bad = []
    for r in RULES.values():
        if not has_entry(t, r.title_en) or r.title("ru") == r.title("en"):
            bad.append(f"{r.id}: title {r.title_en!r}")
        if not citation_translated(r.citation):
            bad.append(f"{r.id}: citation {r.citation!r}")
        if r.fix_en and (not has_entry(t, r.fix_en) or r.fix("ru") == r.fix("en")):
            bad.append(f"{r.id}: remedy {r.fix_en!r}")
        if re.search(r"\b(art|p|s|reg)\.\s", r.cite("ru")) or "-FZ" in r.cite("ru"):
            bad.append(f"{r.id}: citation not translated: {r.cite('ru')!r}")
    assert bad == [], "run scripts/catalogue_to_po.py, then translate what is left in checks.po:\n" + "\n".join(bad)


def _sample(template: str) -> Message:
    """The template filled with placeholder values (a number for counts)."""
    numeric = {name for _, name, spec, _ in string.Formatter().parse(template) if name and spec}
    return Message(template, **{k: (3 if k in ("count", "n") else 0.0042 if k in numeric else f"<{k}>")
                                for k in _fields(template)})


def test_every_rule_renders_as_a_pdf_finding_in_both_languages() -> None:
    from reports.data import FindingRow
    from reports.render import render_html

    details = [m.id for m in _catalogue(CHECKS / "ru/LC_MESSAGES/checks.po")
               if m.id and not m.context and isinstance(m.id, str) and m.id not in
               {r.title_en for r in RULES.values()} | {r.citation for r in RULES.values()}
               | {r.fix_en for r in RULES.values()}]
    details += [m.id[0] for m in _catalogue(CHECKS / "ru/LC_MESSAGES/checks.po") if isinstance(m.id, tuple)]
    assert details
    rows = []
    for i, r in enumerate(RULES.values()):
        detail = _sample(details[i % len(details)])
        rows.append(FindingRow.of({"rule_id": r.id, "severity": r.severity, "detail": str(detail),
                                   "detail_msgid": detail.msgid, "detail_params": detail.params,
                                   "subject": "message", "evidence": {"html_bytes": 1}}))
    rows += [FindingRow.of({"rule_id": "SPF-MISSING", "severity": "block", "detail": str(_sample(d)),
                            "detail_msgid": d, "detail_params": _sample(d).params}) for d in details]
    for lang in ("en", "ru"):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", render_html("_finding_list.html", lang,
                                                                          findings=rows))).split())
        for r in RULES.values():
            assert r.title(lang) in text and r.cite(lang) in text and r.fix(lang) in text, (lang, r.id)
        for d in details:
            shown = render(str(_sample(d)), lang, d, _sample(d).params)
            assert " ".join(shown.split()) in text, (lang, d)
            assert (shown != str(_sample(d))) == (lang == "ru" and _translated_differs(d)), (lang, d)
        if lang == "ru":
            assert "Citation" not in text and "How to fix" not in text and "Основание" in text


def _translated_differs(template: str) -> bool:
    t = translations(str(CHECKS), "checks", "ru")
    return t.gettext(template) != template or (template, 0) in getattr(t, "_catalog", {})


def test_every_ui_string_has_a_russian_entry() -> None:
    method_map = [("auditor/ui/**.py", "python"), ("auditor/ui/templates/**.html", "jinja2")]
    keywords = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "pgettext": ((1, "c"), 2),
                "ngettext": (1, 2)}
    cat = _catalogue(ROOT / "auditor/ui/translations/ru/LC_MESSAGES/messages.po")
    missing, seen = [], set()
    for filename, line, message, _comments, context in extract_from_dir(str(ROOT), method_map, keywords=keywords):
        key = message[0] if isinstance(message, tuple) else message
        seen.add((context, key))
        if cat.get(key, context=context) is None:
            missing.append(f"{filename}:{line}: {key!r}")
    assert len(seen) > 150 and ("review decision", "approved") in seen
    assert missing == []


def test_every_citation_part_a_campaign_can_be_narrowed_to_reads_in_russian() -> None:
    missing = [f"{rid} {j}: {text!r}" for rid, parts in CITATION_PARTS.items() for j, text in parts.items()
               if not citation_translated(text)]
    assert missing == []


def test_a_pdf_finding_cites_what_its_campaign_narrowed_it_to_in_either_language() -> None:
    from checks.catalogue import citation_for
    from reports.data import FindingRow
    from reports.render import render_html

    us_only = citation_for("CONSENT-NONE", ["US"], "email")
    row = FindingRow.of({"rule_id": "CONSENT-NONE", "severity": "block", "detail": "", "citation": us_only})
    for lang, wanted in (("en", "organisation policy"), ("ru", "политика организации")):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", render_html("_finding_list.html", lang,
                                                                          findings=[row]))).split())
        assert wanted in text and "38-F" not in text and "GDPR" not in text and "CASL" not in text, (lang, text)
