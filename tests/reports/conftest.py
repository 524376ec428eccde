"""Fixtures of the report tests: the whole loop (app on loopback DNS, actors) and PDF tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.auditor.campaigns.loop import loop  # noqa: F401

for tool in ("pdftotext", "pdfdetach", "pdfinfo"):
    if shutil.which(tool) is None:  # pragma: no cover - set-up problem, not a test outcome
        raise RuntimeError(f"{tool} is missing: apt-get install -y poppler-utils (scripts/setup.sh --test)")


def pdf_text(path: Path) -> str:
    """The PDF's text in reading order, as poppler extracts it."""
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def page_texts(path: Path) -> list[str]:
    """Text of each page, whitespace collapsed (pdftotext separates pages with form feeds)."""
    raw = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                         text=True).stdout
    return [" ".join(p.split()) for p in raw.split("\f")][: pdf_pages(path)]


def pdf_pages(path: Path) -> int:
    """Page count (pdfinfo)."""
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def pdf_attachments(path: Path, into: Path) -> dict[str, Path]:
    """Save every embedded file of the PDF into ``into`` (pdfdetach); {name: path}."""
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdfdetach", "-saveall", "-o", str(into), str(path)], check=True, capture_output=True)
    return {p.name: p for p in into.iterdir()}


def verify_proof_offline(proof: Path, key: Path, workdir: Path) -> subprocess.CompletedProcess:
    """``auditor ledger verify-proof`` in a fresh process with an empty instance (no database)."""
    empty = workdir / "empty-instance"
    empty.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "AUDITOR_INSTANCE_PATH": str(empty), "HOME": str(workdir)}
    return subprocess.run([sys.executable, "-m", "auditor", "ledger", "verify-proof", str(proof),
                           "--public-key", str(key)], capture_output=True, text=True, cwd=workdir, env=env)


@pytest.fixture
def tools():
    """The PDF helpers as one namespace."""

    class Tools:
        text = staticmethod(pdf_text)
        pages = staticmethod(pdf_pages)
        page_texts = staticmethod(page_texts)
        attachments = staticmethod(pdf_attachments)
        verify = staticmethod(verify_proof_offline)

    return Tools
