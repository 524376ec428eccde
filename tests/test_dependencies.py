"""Every third-party import of the project's packages is declared in pyproject.toml, and no more."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("auditor", "checks", "reports", "consent_ledger")
# Declared for what runs rather than what is imported: the PostgreSQL driver (by URL), .env loading.
NOT_IMPORTED = {"psycopg", "python-dotenv"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(spec: str) -> tuple[str, set[str]]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(?:\[([^\]]*)\])?", spec)
    assert m, spec
    return _norm(m.group(1)), {e.strip() for e in (m.group(2) or "").split(",") if e.strip()}


def _declared() -> tuple[set[str], set[str]]:
    """(direct names, names reachable through the extras asked for, e.g. celery[redis] -> redis)."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    direct, reachable = set(), set()
    todo = [_requirement(d) for d in deps]
    direct = {name for name, _ in todo}
    while todo:
        name, extras = todo.pop()
        if name in reachable and not extras:
            continue
        reachable.add(name)
        for req in md.requires(name) or []:
            base, _, marker = req.partition(";")
            wanted = re.findall(r'extra\s*==\s*"([^"]+)"', marker)
            if wanted and set(wanted) & extras:
                todo.append(_requirement(base))
    return direct, reachable


def _imports() -> dict[str, set[str]]:
    """Top-level module names imported anywhere in the packages, with a file that imports each."""
    found: dict[str, set[str]] = {}
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations/versions" not in str(p)]
    for path in [*files, ROOT / "wsgi.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for n in names:
                found.setdefault(n.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared():
    direct, reachable = _declared()
    dists = md.packages_distributions()
    missing = {}
    for module, where in _imports().items():
        if module in sys.stdlib_module_names or module in PACKAGES or module in ("__future__", "wsgi"):
            continue
        owners = {_norm(d) for d in dists.get(module, [])}
        assert owners, f"{module} (imported by {sorted(where)[0]}) belongs to no installed distribution"
        if not owners & reachable:
            missing[module] = sorted(owners)
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"


def test_every_declared_dependency_is_imported_or_known_to_be_run():
    direct, _ = _declared()
    dists = md.packages_distributions()
    imported = {_norm(d) for module in _imports() for d in dists.get(module, [])}
    unused = sorted(direct - imported - NOT_IMPORTED)
    assert unused == [], f"declared but imported nowhere: {unused}"


def test_the_declarations_the_issue_names():
    direct, reachable = _declared()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "pymerkle" not in direct and "redis" not in direct
    assert {"babel", "expiringdict", "flask-limiter"} <= direct and "redis" in reachable
    crypto = next(d for d in deps if _requirement(d)[0] == "cryptography")
    # checkdmarc 6 needs cryptography>=50: no upper bound that the next releases would break.
    assert ">=50" in crypto and "<" not in crypto
