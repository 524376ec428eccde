"""Move Russian text out of checks/catalogue.py into the Babel catalogue checks.po.

Old-format rules ``(section, id, severity, title_en, title_ru, citation)`` and ``_FIXES`` pairs
``(en, ru)`` become ``(section, id, severity, title_en, citation)`` and ``en``; each Russian text
is appended to ``checks/translations/ru/LC_MESSAGES/checks.po`` unless that msgid is already
there. Idempotent; run after merging new catalogue entries: ``python scripts/catalogue_to_po.py``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "checks" / "catalogue.py"
PO = ROOT / "checks" / "translations" / "ru" / "LC_MESSAGES" / "checks.po"


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _py_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _assigned(tree: ast.Module, name: str) -> ast.expr:
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
                return node.value
    raise SystemExit(f"{CATALOGUE}: no {name} assignment")


def convert(source: str, known: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """(new catalogue source, new (msgid, msgstr) pairs) for ``source``."""
    tree = ast.parse(source)
    raw = source.encode("utf-8")  # ast offsets count UTF-8 bytes
    lines = raw.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    pairs: list[tuple[str, str]] = []

    def span(node: ast.expr) -> tuple[int, int]:
        return (offsets[node.lineno - 1] + node.col_offset, offsets[node.end_lineno - 1] + node.end_col_offset)

    def add(en: str, ru: str) -> None:
        if en and ru and en not in known:
            known.add(en)
            pairs.append((en, ru))

    rules = _assigned(tree, "_RULES")
    assert isinstance(rules, ast.List)
    for elt in rules.elts:
        if isinstance(elt, ast.Tuple) and len(elt.elts) == 6:
            sec, rid, sev, en, ru, cit = (ast.literal_eval(e) for e in elt.elts)
            add(en, ru)
            edits.append((*span(elt), "(" + ", ".join(_py_quote(x) for x in (sec, rid, sev, en, cit)) + ")"))
    fixes = _assigned(tree, "_FIXES")
    assert isinstance(fixes, ast.Dict)
    for value in fixes.values:
        if isinstance(value, ast.Tuple) and len(value.elts) == 2:
            en, ru = (ast.literal_eval(e) for e in value.elts)
            add(en, ru)
            edits.append((*span(value), _py_quote(en)))
    for start, end, text in sorted(edits, reverse=True):
        raw = raw[:start] + text.encode("utf-8") + raw[end:]
    return raw.decode("utf-8"), pairs


def main() -> int:
    """Rewrite the catalogue and append to checks.po; prints what it did."""
    with PO.open("rb") as f:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    source, pairs = convert(CATALOGUE.read_text(encoding="utf-8"), known)
    if pairs:
        with PO.open("a", encoding="utf-8") as f:
            for en, ru in pairs:
                f.write(f"\nmsgid {_po_quote(en)}\nmsgstr {_po_quote(ru)}\n")
    CATALOGUE.write_text(source, encoding="utf-8")
    print(f"{len(pairs)} Russian texts moved to {PO.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
