"""Open an import file as text whatever its encoding: UTF-8 (with or without BOM), UTF-16, or a
legacy single-byte code page such as Windows-1251 (what a Russian Excel "CSV" export writes).

A byte order mark decides; else a file that is valid UTF-8 throughout is UTF-8; else
charset-normalizer names the code page from a sample (its text must read as some language), and
the whole file must decode in it.
Anything else is refused with the first line that is not UTF-8 and a hint how to convert it.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import IO

# BOMs, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Code pages accepted when charset-normalizer names them: Cyrillic and Western spreadsheet exports.
# (Not mac_cyrillic: it differs from cp1251 in a few capitals only, and Excel on Windows writes cp1251.)
LEGACY = ("cp1251", "koi8_r", "cp866", "cp1252")
SAMPLE = 1 << 20
CHUNK = 1 << 16


class UndecodableFile(ValueError):
    """The file's encoding cannot be told; the message names the line and how to fix it."""


def _first_bad_utf8(path: Path) -> tuple[int, int] | None:
    """(line, byte offset) of the first byte that is not UTF-8, or None if the file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # The bad byte is at exc.start of the decoder's buffered input plus this chunk.
                pending = len(exc.object) - len(chunk)
                good = chunk[: max(0, exc.start - pending)]
                return line + good.count(b"\n"), offset + len(good)
            line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return line, offset
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path) -> str:
    """The Python codec to read ``path`` with; UndecodableFile if it cannot be told."""
    with path.open("rb") as fh:
        head = fh.read(SAMPLE)
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    start = head[:32]  # the CSV header: ASCII column names
    if len(start) >= 4 and len(start) % 2 == 0:
        # UTF-16 without a BOM: in ASCII text (a CSV header) every other byte is zero.
        even, odd = start[0::2], start[1::2]
        if not odd.strip(b"\x00") and b"\x00" not in even:
            return "utf-16-le"
        if not even.strip(b"\x00") and b"\x00" not in odd:
            return "utf-16-be"
    bad = _first_bad_utf8(path)
    if bad is None:
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head, cp_isolation=list(LEGACY)).best()
    # A single-byte code page decodes any bytes: take it only if the text reads as a language.
    if best is not None and best.coherence > 0 and b"\x00" not in head:
        encoding = codecs.lookup(best.encoding).name.replace("-", "_")
        if encoding in LEGACY and _decodes(path, encoding):
            return encoding
    line, _ = bad
    raise UndecodableFile(
        f"line {line} is not UTF-8 and the file's encoding cannot be told; save it as "
        "\"CSV UTF-8\" (Excel: Save As > CSV UTF-8) or convert it, e.g. iconv -f cp1251 -t utf-8")


def open_text(path: Path) -> tuple[IO[str], str]:
    """``path`` opened as text for ``csv`` (newline="") in its detected encoding, and that encoding."""
    encoding = detect_encoding(path)
    return io.open(path, encoding=encoding, newline=""), encoding  # noqa: UP020 - explicit text mode
