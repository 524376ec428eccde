"""Every finding detail of the rule packs and the text-channel check has its Russian translation."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
FILES = ["checks/rules/base.py", "checks/rules/channel.py", "checks/rules/ru.py", "checks/rules/us.py",
         "checks/rules/bulk.py", "checks/message/sms.py"]
CATALOGUE = ROOT / "checks/translations/ru/LC_MESSAGES/checks.po"


def templates() -> list[tuple[str, str]]:
    out = []
    for name in FILES:
        for node in ast.walk(ast.parse((ROOT / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "msg":
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{name}:{node.lineno}: msg() needs a literal template"
                out.append((name, first.value))
    return out


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


@pytest.fixture(scope="module")
def russian() -> dict[str, str]:
    with CATALOGUE.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id}


@pytest.mark.parametrize(("name", "template"), templates())
def test_template_is_translated_with_the_same_placeholders(russian, name, template):
    assert russian.get(template), f"{name}: no Russian for {template!r}"
    assert fields(russian[template]) == fields(template), template
