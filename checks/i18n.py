"""Finding details as message ids with parameters, so one finding reads naturally in English
and Russian; and the one translation path of the project (Babel ``.po`` catalogues).

A check writes ``msg("{count} lookups return no answer", count=3)``: the result is the English
text (a ``str``, so every existing caller keeps working) that remembers its message id and
parameters. The Russian text comes from the Babel catalogue
``checks/translations/ru/LC_MESSAGES/checks.po`` (msgid = the English template). Rule titles,
citations and remedies are translated through the same catalogue; the PDF labels have their own
(``reports/translations``) and the UI its own (``auditor/ui/translations``), all read here.

The ``.po`` files are read directly at run time (compiled in memory on first use), so a fresh
clone needs no build step.
"""

from __future__ import annotations

import gettext as _gettext
import string
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LANGS = ("en", "ru")
CHECKS = Path(__file__).parent / "translations"
PLURAL_PARAMS = ("count", "n")


class Message(str):
    """English text that remembers the template (``msgid``) and ``params`` it was made from."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        text = super().__new__(cls, msgid.format(**{k: _joined(v) for k, v in params.items()}) if params else msgid)
        text.msgid = msgid
        text.params = params
        return text


def msg(msgid: str, /, **params: Any) -> Message:
    """A translatable finding detail: ``msgid`` is an English ``str.format`` template.

    A parameter may itself be a ``msg()`` (translated too), or a list of them (joined by ``; ``).
    """
    return Message(msgid, **params)


def _joined(value: Any) -> Any:
    """A list of messages as one text; anything else unchanged."""
    if isinstance(value, list | tuple) and value and all(isinstance(v, Message) for v in value):
        return "; ".join(value)
    return value


def _is_stored(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"msgid", "params", "text"}


def stored_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON keeps them: nested messages as ``{msgid, params, text}``, sets and
    tuples as lists, other objects as their text."""
    return {str(k): _stored(v) for k, v in params.items()}


def _stored(value: Any) -> Any:
    if isinstance(value, Message):
        return {"msgid": value.msgid, "params": stored_params(value.params), "text": str(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_stored(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _stored(v) for k, v in value.items()}
    return str(value)


def lang_of(value: str | None) -> str:
    """``ru`` or ``en`` from a language tag (``ru-RU``, ``en``, None)."""
    return "ru" if value and value.lower().replace("_", "-").split("-")[0] == "ru" else "en"


@cache
def translations(folder: str, domain: str, lang: str) -> _gettext.NullTranslations:
    """The catalogue ``folder/<lang>/LC_MESSAGES/<domain>.po``, compiled in memory (English: none)."""
    po = Path(folder) / lang / "LC_MESSAGES" / f"{domain}.po"
    if lang == "en" or not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain=domain)


def has_entry(t: _gettext.NullTranslations, msgid: str) -> bool:
    """True when the catalogue translates ``msgid`` (singular or plural entry)."""
    cat = getattr(t, "_catalog", {})
    return msgid in cat or (msgid, 0) in cat


def gettext(text: str, lang: str, folder: Path = CHECKS, domain: str = "checks") -> str:
    """``text`` in ``lang`` from a catalogue (the English text when it has no entry)."""
    if not text or lang == "en":
        return text
    return translations(str(folder), domain, lang).gettext(text)


def fmt_value(value: Any, lang: str, folder: Path = CHECKS, domain: str = "checks") -> Any:
    """A parameter as the locale writes it: numbers with its separators, nested messages
    translated (a list of them joined by ``; ``); the rest unchanged."""
    if _is_stored(value):
        return render(value["text"], lang, value["msgid"], value["params"], folder, domain)
    if isinstance(value, list) and value and all(_is_stored(v) for v in value):
        return "; ".join(fmt_value(v, lang, folder, domain) for v in value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return format_decimal(value, locale=lang)


def render(text: str, lang: str, msgid: str | None = None, params: dict[str, Any] | None = None,
           folder: Path = CHECKS, domain: str = "checks") -> str:
    """A detail in ``lang``: its template translated and filled in; English when untranslated.

    Plural entries (``msgid_plural``) pick the form by the ``count`` (or ``n``) parameter.
    """
    template = msgid or text
    if not template or lang == "en" or (params and not msgid):
        return text
    t = translations(str(folder), domain, lang)
    params = params or {}
    n = next((params[k] for k in PLURAL_PARAMS if isinstance(params.get(k), int)), None)
    cat = getattr(t, "_catalog", {})
    if n is not None and (template, 0) in cat:
        out = t.ngettext(template, template, n)
    elif template in cat:
        out = t.gettext(template)
    else:
        return text
    # a field with its own format spec ({rate:.2%}) formats the number itself
    specified = {name for _, name, spec, _ in string.Formatter().parse(out) if name and spec}
    try:
        return out.format(**{k: v if k in specified and isinstance(v, int | float) else
                             fmt_value(v, lang, folder, domain) for k, v in params.items()}) if params else out
    except (KeyError, IndexError, ValueError):  # a translation naming an unknown parameter
        return text


def detail_of(finding: Any, lang: str) -> str:
    """A finding's detail (dict or ``Finding``) in ``lang``; old rows without a msgid by their text."""
    d = finding if isinstance(finding, dict) else finding.to_dict()
    return render(d.get("detail") or "", lang, d.get("detail_msgid") or None, d.get("detail_params") or None)


def format_when(value: Any, lang: str, *, with_time: bool = True) -> str:
    """A timestamp (or ISO text) in the locale's medium format, in UTC; ``—`` when blank."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return format_date(date.fromisoformat(value), "medium", locale=Locale.parse(lang))
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    loc = Locale.parse(lang)
    if isinstance(value, datetime):
        if not with_time:
            return format_date(value.date(), "medium", locale=loc)
        return format_datetime(value, "medium", tzinfo="UTC", locale=loc) + " UTC"
    if isinstance(value, date):
        return format_date(value, "medium", locale=loc)
    return str(value)


def subject_label(subject: str, lang: str) -> str:
    """What a finding is about, its kind translated: ``recipient:ab12`` → ``получатель: ab12``."""
    if lang == "en" or not subject:
        return subject
    kind, sep, rest = subject.partition(":")
    t = translations(str(CHECKS), "checks", lang)
    name = t.pgettext("subject", kind)
    if name == kind and not has_context(t, "subject", kind):
        return subject
    return f"{name}: {rest}" if sep else name


def evidence_label(key: str, lang: str) -> str:
    """An evidence key as a reader's word (the key itself when the catalogue has none)."""
    if lang == "en":
        return key
    return translations(str(CHECKS), "checks", lang).pgettext("evidence", key)


def has_context(t: _gettext.NullTranslations, context: str, msgid: str) -> bool:
    """True when the catalogue has ``msgid`` under ``msgctxt`` ``context``."""
    return f"{context}\x04{msgid}" in getattr(t, "_catalog", {})
