"""Every finding detail of the DNS checks is a msg() template with a Russian translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
FILES = [*sorted((ROOT / "checks" / "dns_auth").glob("*.py")), ROOT / "checks" / "domain_audit.py",
         ROOT / "checks" / "preflight.py"]


def _templates() -> set[str]:
    out = set()
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "msg":
                assert node.args and isinstance(node.args[0], ast.Constant), f"{path.name}: msg() needs a literal"
                out.add(node.args[0].value)
    return out


def test_every_template_has_a_russian_translation_with_the_same_placeholders() -> None:
    with (ROOT / "checks" / "translations" / "ru" / "LC_MESSAGES" / "checks.po").open("rb") as fh:
        catalogue = read_po(fh)
    templates = _templates()
    assert len(templates) > 60
    missing = sorted(t for t in templates if not (catalogue.get(t) and catalogue.get(t).string))
    assert missing == []
    for t in templates:
        assert set(re.findall(r"{\w+}", t)) == set(re.findall(r"{\w+}", catalogue.get(t).string)), t


def test_no_finding_detail_is_a_bare_string() -> None:
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "finding" and len(node.args) > 1:
                assert not isinstance(node.args[1], (ast.Constant, ast.JoinedStr)), f"{path.name}:{node.lineno}"
