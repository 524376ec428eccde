"""``auditor ledger import --bulk``: the bulk loader behind the import command, same report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from auditor.cli import fail

MAX_REPORTED = 1000  # as the streaming import: bad rows listed in --json output


def bulk_import(file: Path, fmt: str | None, batch_size: int, actor: str, bulk: bool | None,
                workers: int | None, resume_from: int, as_json: bool) -> bool:
    """Import ``file`` with the bulk loader; False (nothing done) when ``bulk`` is None and the
    file is below the automatic threshold, so the streaming import runs instead."""
    from auditor.ledger.cli import _ledger, _progress, finish_import, open_import
    from consent_ledger.bulkload import AUTO_ROWS, bulk_append, count_lines
    from consent_ledger.importing import UnusableInput, read_rows

    fmt = fmt or ("jsonl" if file.suffix.lower() in (".jsonl", ".ndjson") else "csv")
    if bulk is None and AUTO_ROWS is None:
        return False
    try:
        lines = count_lines(file)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    if bulk is None and lines < AUTO_ROWS:
        return False
    stream, _encoding = open_import(file, as_json)
    ledger = _ledger()
    bad: list[dict[str, Any]] = []
    warned: list[dict[str, Any]] = []
    counts: dict[str, Any] = {"imported": 0, "bad": 0, "warnings": 0, "first_seq": None, "last_seq": None,
                              "next_line": resume_from}
    header = 1 if fmt == "csv" else 0
    total = max(0, lines - header - max(0, resume_from - 1 - header))

    def report(line: int, message: str) -> None:
        counts["bad"] += 1
        if len(bad) < MAX_REPORTED:
            bad.append({"line": line, "error": message})
        if not as_json:
            click.echo(f"{file.name}:{line}: {message}", err=True)

    with stream, _progress(total, "rows") as bar:
        try:
            for done in bulk_append(ledger, read_rows(stream, fmt, raw=True), actor, batch_size=batch_size, workers=workers,
                                    resume_from=resume_from):
                # Committed: from here on an interruption must name the line after this segment.
                read, counts["next_line"] = done.next_line - counts["next_line"], done.next_line
                for line, why in done.bad:
                    report(line, why)
                for a in done.appended:
                    if a.warning:
                        counts["warnings"] += 1
                        if len(warned) < MAX_REPORTED:
                            warned.append({"line": done.lines[a.index], "seq": a.seq, "warning": a.warning})
                        if not as_json:
                            click.echo(f"{file.name}:{done.lines[a.index]}: warning: {a.warning}", err=True)
                if done.appended:
                    counts["imported"] += len(done.appended)
                    counts["first_seq"] = counts["first_seq"] or done.appended[0].seq
                    counts["last_seq"] = done.appended[-1].seq
                bar.update(read)
                bar.set_postfix_str(f"resume: --resume-from {done.next_line}", refresh=False)
        except (UnusableInput, UnicodeDecodeError) as exc:
            fail(f"{file}: {exc}")
        except BaseException:
            # Every batch before this one is committed; the unfinished one left nothing.
            print(f"import interrupted: lines before {counts['next_line']} are in the ledger; "
                  f"continue with --resume-from {counts['next_line']}", file=sys.stderr)
            raise
    finish_import(counts, bad, warned, as_json, mode="bulk")
    return True
