"""Findings as reviewers read them: catalogue title and citation in the user's language, by pack."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from checks.catalogue import RULES, cite
from checks.findings import SEVERITY_ORDER
from checks.i18n import detail_of, evidence_label, subject_label

PACKS = {
    "RU": _l("Russia: 38-FZ, 152-FZ, 126-FZ"), "EU": _l("EU: GDPR, ePrivacy"), "UK": _l("UK: PECR, UK GDPR"),
    "US": _l("USA: CAN-SPAM, TCPA"), "CA": _l("Canada: CASL"), "dns": _l("Sending domain (DNS)"),
    "blocklists": _l("Blocklists"), "bulk": _l("Bulk-sender rules (Gmail, Yahoo, Outlook)"),
    "channel": _l("Channel"), "consent": _l("Consent"), "message": _l("Message"), "other": _l("Other"),
}


def pack_label(pack: str) -> str:
    """A reader's name for a catalogue section."""
    return str(PACKS.get(pack, pack))


def language() -> str:
    """``ru`` or ``en``."""
    loc = get_locale()
    return "ru" if loc is not None and loc.language == "ru" else "en"


def title_of(rule_id: str, fallback: str = "") -> str:
    """The catalogue title in the user's language (the stored one for unknown ids)."""
    r = RULES.get(rule_id)
    return r.title(language()) if r else (fallback or rule_id)


def shown(f: dict[str, Any]) -> dict[str, Any]:
    """A finding dict in the user's language: title, citation and remedy from the catalogue, the
    detail from its msgid (stored text for old rows), subject and evidence keys translated."""
    lang = language()
    r = RULES.get(f.get("rule_id", ""))
    evidence = f.get("evidence") or {}
    detail = detail_of(f, lang)
    # an untranslated detail (stored before msgids) is marked lang="en" for screen readers
    detail_lang = lang if lang == "en" or detail != (f.get("detail") or "") else "en"
    return {**f, "title": r.title(lang) if r else f.get("title", ""),
            # the stored citation is narrowed to the campaign's jurisdictions (catalogue.citation_for)
            "citation": cite(f.get("citation") or (r.citation if r else ""), lang),
            "detail": detail, "detail_lang": detail_lang, "about": subject_label(f.get("subject") or "", lang),
            "evidence_text": "\n".join(f"{evidence_label(k, lang)}: {json.dumps(v, ensure_ascii=False, default=str)}"
                                       for k, v in sorted(evidence.items())),
            "pack": r.section if r else "other"}


def by_pack(findings: list[dict[str, Any]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(pack, worst severity, findings) with the most severe packs and findings first."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        s = shown(f)
        groups[s["pack"]].append(s)
    rank = SEVERITY_ORDER.get
    out = []
    for pack, items in groups.items():
        items.sort(key=lambda f: (-rank(f.get("severity"), 0), f.get("rule_id", "")))
        out.append((pack, items[0].get("severity", "info"), items))
    out.sort(key=lambda g: (-rank(g[1], 0), g[0]))
    return out


def worst(findings: list[dict[str, Any]]) -> str | None:
    """The highest severity among finding dicts."""
    sevs = [f.get("severity") for f in findings if f.get("severity") in SEVERITY_ORDER]
    return max(sevs, key=SEVERITY_ORDER.__getitem__) if sevs else None
