"""Compile the interface's .po catalogues to .mo when a .po is newer (the .mo are committed too)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def ensure_catalogues(folder: Path) -> list[Path]:
    """Write each stale or missing ``messages.mo`` under ``folder``; returns those written."""
    written = []
    for po in folder.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as f:
                catalog = read_po(f)
            with mo.open("wb") as f:
                write_mo(f, catalog)
        except OSError:  # read-only install: the committed .mo is used as it is
            continue
        written.append(mo)
    return written
