"""Bulk import: the streaming import's events, prepared in worker processes and written by one writer.

Rule: a bulk load leaves exactly what the streaming import leaves for the same file and batch
size. So nothing here builds an event: workers call ``Ledger.prepare`` (validation,
pseudonyms, sealing, canonical JSON) and the writer calls ``Ledger.commit`` (state machine,
seqs, leaf hashes, tree, checkpoints, projection, vault), batch after batch in file order. What
differs is only how the work is scheduled and written:

- preparation runs in ``workers`` forked processes (the CPU-bound half of an append), while
  the writer commits the batch before; at most ``workers + 1`` batches are in flight, so
  memory stays flat whatever the file size;
- on a fresh or small ledger the secondary index of events (pseudonym, seq) is dropped for the
  load and built once, sorted, at the end (it serves history and erasure, not the append);
- on PostgreSQL the events go in with ``COPY`` instead of ``INSERT``.

Each batch is one transaction: a crash leaves every committed batch (a ledger that verifies)
and nothing of the unfinished one; ``next_line`` says where to resume.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from consent_ledger import db
from consent_ledger.events import EventIn
from consent_ledger.importing import Row, event_from_mapping
from consent_ledger.ledger import Appended, Ledger, Prepared
from consent_ledger.schema import events

# From how many rows `auditor ledger import` goes bulk on its own; None: only with --bulk. Off by
# default: on a quiet 2-core machine the bulk path measured no faster than streaming, both bound by
# the one writer's commit (docs/ledger.md, "Bulk import").
AUTO_ROWS: int | None = None
SMALL_LEDGER = 100_000  # below this many events the index is rebuilt after the load
_INDEX = next(iter(events.indexes))  # ix_ledger_events_pseudonym_seq

_worker_ledger: Ledger | None = None  # the parent's ledger, inherited by the forked workers


@dataclass
class Batch:
    """One batch of the file: its events with their lines, the bad rows read with it, its end."""

    events: list[EventIn | dict[str, Any]] = field(default_factory=list)  # an event or its CSV columns
    lines: list[int] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    last_line: int = 0


@dataclass
class Done:
    """A committed batch: what was appended, each bad or refused row, and where to resume."""

    appended: list[Appended]
    lines: list[int]  # the line of each event given, by its index
    bad: list[tuple[int, str]]  # (line, why), in line order
    next_line: int  # the first line not yet in the ledger


def batches(rows: Iterable[Row], size: int, resume_from: int = 1) -> Iterator[Batch]:
    """Rows grouped into batches of ``size`` rows read, good or bad, as the streaming import
    groups them (so both commit the same events together and checkpoint at the same sizes);
    rows before ``resume_from`` are skipped."""
    batch = Batch()
    for row in rows:
        if row.line < resume_from:
            continue
        batch.last_line = row.line
        item = row.event if row.event is not None else row.record
        if item is None:
            batch.bad.append((row.line, row.error or "bad row"))
        else:
            batch.events.append(item)
            batch.lines.append(row.line)
        if len(batch.events) + len(batch.bad) >= size:
            yield batch
            batch = Batch()
    if batch.events or batch.bad:
        yield batch


def _init_worker() -> None:
    # The forked copy of the engine's pool holds the parent's connections: drop them unclosed.
    assert _worker_ledger is not None
    _worker_ledger.engine.dispose(close=False)


def _prepare(items: list[EventIn | dict[str, Any]], actor: str) -> tuple[Prepared, list[int], list[tuple[int, str]]]:
    """In a worker: CSV columns made events, then ``Ledger.prepare``; returns it, the index of
    each event given to it, and (index, why) of each row that is not an event."""
    assert _worker_ledger is not None
    good: list[EventIn] = []
    kept: list[int] = []
    bad: list[tuple[int, str]] = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            try:
                item = event_from_mapping(item)
            except ValueError as exc:  # what read_csv reports for such a row
                bad.append((i, str(exc)))
                continue
        good.append(item)
        kept.append(i)
    return _worker_ledger.prepare(good, actor, keep_good=True), kept, bad


def _commit(ledger: Ledger, batch: Batch, prepared: Prepared, kept: list[int], unread: list[tuple[int, str]]) -> Done:
    if prepared.bodies:
        with db.copy_events():
            appended = ledger.commit(prepared, keep_good=True)
    else:
        appended = []
    lines = [batch.lines[i] for i in kept]
    bad = (batch.bad + [(batch.lines[i], why) for i, why in unread]
           + [(lines[e["index"]], f"{e['field']}: {e['message']}") for e in prepared.errors])
    return Done(appended, lines, sorted(bad), batch.last_line + 1)


def small_ledger(ledger: Ledger) -> bool:
    """Whether the events index is cheaper built once after the load than kept up row by row."""
    return ledger.size() < SMALL_LEDGER


def bulk_append(ledger: Ledger, rows: Iterable[Row], actor: str, *, batch_size: int = 5000,
                workers: int | None = None, resume_from: int = 1,
                rebuild_index: bool | None = None) -> Iterator[Done]:
    """Append the rows' events batch by batch in file order; yields each batch once committed.

    ``workers``: preparing processes (default: the CPUs, at most 2 leave the writer its core
    on a small machine). ``rebuild_index``: drop and rebuild the events index (default: on a
    fresh or small ledger).
    """
    global _worker_ledger
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    rebuild = small_ledger(ledger) if rebuild_index is None else rebuild_index
    if rebuild:
        with ledger.engine.begin() as conn:
            _INDEX.drop(conn, checkfirst=True)
    try:
        _worker_ledger = ledger
        ledger.engine.dispose()  # no pooled connection may be shared with the children
        with multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker) as pool:
            pending: deque[tuple[Batch, Any]] = deque()
            source = batches(rows, batch_size, resume_from)
            for batch in source:
                pending.append((batch, pool.apply_async(_prepare, (batch.events, actor))))
                if len(pending) > workers:
                    done, result = pending.popleft()
                    yield _commit(ledger, done, *result.get())
            while pending:
                done, result = pending.popleft()
                yield _commit(ledger, done, *result.get())
    finally:
        _worker_ledger = None
        # Also when this load kept the index: an earlier load killed mid-way may have left it dropped.
        rebuild_events_index(ledger)
        db.fold_wal(ledger.engine)


def rebuild_events_index(ledger: Ledger) -> None:
    """Create the events index if a bulk load (finished or interrupted) left it dropped."""
    with ledger.engine.begin() as conn:
        _INDEX.create(conn, checkfirst=True)


def count_lines(path: os.PathLike[str] | str) -> int:
    """Newlines in a file, read in large binary blocks (for the progress bar's total and ETA)."""
    n = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            n += block.count(b"\n")
    return n
