"""Bulk import: the streaming import's events, prepared in worker processes and written by one writer.

Rule: a bulk load leaves exactly what the streaming import leaves for the same file and batch
size: the same events and seqs, leaf hashes, tree, checkpoints, projection, vault, bad rows and
warnings. Workers call ``Ledger.prepare`` (validation, pseudonyms, sealing, canonical JSON);
the writer appends each batch as ``Ledger.commit`` does (its recording time, seqs, leaf
hashes, tree, checkpoint rule, vault rows; the state machine of ``consent_ledger.projection``
per event in file order). What differs is how the work is scheduled and written:

- preparation runs in ``workers`` forked processes; at most ``workers + 1`` batches are in
  flight, so memory stays flat whatever the file size;
- batches are written in segments of ``SEGMENT_ROWS`` events, one transaction each: the
  projection rows stay in memory for the segment and are written once, in key order, at its end;
  on a ledger that was empty when the load began, subjects not met earlier in the load have no
  state or vault row to read;
- on a fresh or small ledger the secondary index of events (pseudonym, seq) is dropped for the
  load and built once, sorted, at the end (it serves history and erasure, not the append);
- on PostgreSQL the events go in with ``COPY`` instead of ``INSERT``.

A crash leaves every committed segment (a ledger that verifies) and nothing of the unfinished
one; each segment is reported once committed, and its ``next_line`` says where to resume.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from consent_ledger import db
from consent_ledger.bulk import collector_paused
from consent_ledger.events import EventIn, format_time
from consent_ledger.importing import Row, event_from_mapping
from consent_ledger.ledger import (
    _UPSERT,
    EVENT_COLUMNS,
    Appended,
    Ledger,
    Prepared,
    _state_tuple,
    sequence_events,
)
from consent_ledger.schema import STATE_COLUMNS, events, vault

# From how many rows `auditor ledger import` goes bulk on its own; None: only with --bulk. Off by
# default: on this 2-core machine the bulk path has not measured clearly faster than streaming (it
# needs both cores to win; docs/ledger.md, "Bulk import").
AUTO_ROWS: int | None = None
SEGMENT_ROWS = 20_000  # events per transaction: batches are committed together
SQLITE_LOAD_CACHE_KIB = 49152  # SQLite page cache of the loading connection (48 MB: RSS <= 400 MB)
_MET_HEX = 6  # a pseudonym's first 24 bits index the bitmap of pseudonyms met
_MET_BYTES = 1 << (4 * _MET_HEX - 3)  # 2 MB
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
    """A committed segment (one or more batches): what was appended, each bad or refused row,
    and where to resume."""

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


class _Segment:
    """Batches written by one writer in one transaction holding the append lock.

    Each batch is appended as ``Ledger.commit`` appends it (its own recording time, seqs, leaf
    hashes, tree, checkpoint rule, vault rows), with the state machine of
    ``consent_ledger.projection`` applied to each event in file order, so the ledger is the
    streaming one. What differs is the writing: the projection's rows are kept in memory for
    the segment and written once at its end, in key order, instead of read and upserted per
    batch; a subject never met before in a ledger that was empty when the load began has no
    stored state to read (a bitmap of the pseudonyms met tells); and the engine writes each page
    once per segment instead of once per batch.
    """

    def __init__(self, ledger: Ledger, rows: int, size: int) -> None:
        self.ledger, self.limit, self.fresh = ledger, rows, size == 0
        self.stack: ExitStack | None = None
        self.report = Done([], [], [], 0)  # the segment's batches, reported once committed
        self.rows = 0
        self.states: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self.changed: dict[int, dict[str, Any]] = {}
        self.met = bytearray(_MET_BYTES)  # pseudonyms appended by this load (a bitmap; false positives are harmless)
        self.size = size  # the ledger's size when the load began, then after each of its segments

    def _begin(self) -> datetime:
        self.stack = ExitStack()
        self.stack.enter_context(collector_paused())
        self.stack.enter_context(db.copy_events())
        self.conn, self.frontier, now = self.stack.enter_context(self.ledger._locked())  # noqa: SLF001
        if self.frontier.size != self.size:
            self.fresh = False  # someone else appended since: read every stored state from now on
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
        return now

    def _met(self, pseudonym: str) -> bool:
        """Whether this load may have appended (or made a vault row for) the pseudonym already."""
        bit = int(pseudonym[:_MET_HEX], 16)
        return bool(self.met[bit >> 3] & (1 << (bit & 7)))

    def _load(self, pseudonyms: set[str]) -> None:
        """Stored states of the batch's subjects not yet in memory."""
        need = [p for p in pseudonyms if p not in self.states and (not self.fresh or self._met(p))]
        if need:
            self.states.update(self.ledger._load_rows(self.conn, sorted(need)))  # noqa: SLF001

    def add(self, batch: Batch, prepared: Prepared, kept: list[int], unread: list[tuple[int, str]]) -> None:
        report = self.report
        offset = len(report.lines)  # the index of this batch's first event in the segment's report
        if prepared.bodies:
            now = self._begin() if self.stack is None else self.ledger._clock()  # noqa: SLF001
            report.appended += self._append(prepared, now, offset)
            self.rows += len(prepared.bodies)
        lines = [batch.lines[i] for i in kept]
        report.lines += lines
        report.bad += sorted(batch.bad + [(batch.lines[i], why) for i, why in unread]
                             + [(lines[e["index"]], f"{e['field']}: {e['message']}") for e in prepared.errors])
        report.next_line = batch.last_line + 1

    def _append(self, prepared: Prepared, now: datetime, offset: int) -> list[Appended]:
        """One batch, as ``Ledger.commit(prepared, keep_good=True)`` appends it."""
        ledger, conn, frontier = self.ledger, self.conn, self.frontier
        if not self.fresh or any(self._met(v[0]) for v in prepared.vault):
            ledger._reseal_if_raced(conn, prepared)  # noqa: SLF001 - a subject new in two batches in flight
        bodies, indexes = prepared.bodies, prepared.indexes
        self._load({b["pseudonym"] for b in bodies})
        rows, out, refused = sequence_events(frontier, self.states, self.changed, bodies, prepared.parts,
                                             [offset + i for i in indexes], format_time(now))
        prepared.errors.extend({"index": indexes[i], "field": "claimed_at", "message": why} for i, why in refused)
        db.insert_rows(conn, "ledger_events", EVENT_COLUMNS, rows)
        kept = {a.pseudonym for a in out}
        for p in kept:
            bit = int(p[:_MET_HEX], 16)
            self.met[bit >> 3] |= 1 << (bit & 7)
        db.insert_rows(conn, "ledger_vault", ("pseudonym", "wrapped_key", "sealed"),
                       [v for v in prepared.vault if v[0] in kept], "ON CONFLICT DO NOTHING")
        for p, sealed in prepared.fill:
            if p in kept:
                conn.execute(vault.update().where(vault.c.pseudonym == p, vault.c.sealed == b"").values(sealed=sealed))
        if rows:
            ledger._maybe_checkpoint(conn, frontier, now)  # noqa: SLF001 - the streaming rule, per batch
        return out

    def full(self) -> bool:
        return self.rows >= self.limit

    def commit(self) -> list[Done]:
        """Write the segment's projection rows in key order and commit; its report (none if empty)."""
        if self.stack is not None:
            stack, self.stack = self.stack, None
            rows = sorted(map(_state_tuple, self.changed.values()))
            db.insert_rows(self.conn, "ledger_states", STATE_COLUMNS, rows, _UPSERT)
            if self.conn.dialect.name == "sqlite":
                self.conn.exec_driver_sql(f"PRAGMA cache_size = -{db.SQLITE_CACHE_KIB}")
            stack.close()
            self.ledger._head = self.frontier  # noqa: SLF001 - the committed right edge, as commit sets it
            self.size = self.frontier.size
        report, self.report, self.rows = self.report, Done([], [], [], 0), 0
        self.states, self.changed = {}, {}
        return [report] if report.next_line else []

    def abort(self) -> None:
        """Roll the transaction back: nothing of this segment stays."""
        if self.stack is not None:
            stack, self.stack = self.stack, None
            stack.__exit__(*sys.exc_info())
        self.report, self.rows, self.states, self.changed = Done([], [], [], 0), 0, {}, {}


def small_ledger(ledger: Ledger) -> bool:
    """Whether the events index is cheaper built once after the load than kept up row by row."""
    return ledger.size() < SMALL_LEDGER


def bulk_append(ledger: Ledger, rows: Iterable[Row], actor: str, *, batch_size: int = 5000,
                workers: int | None = None, resume_from: int = 1,
                rebuild_index: bool | None = None, segment_rows: int = SEGMENT_ROWS) -> Iterator[Done]:
    """Append the rows' events batch by batch in file order; yields each segment once committed.

    ``workers``: preparing processes (default: the CPUs, at most 2 leave the writer its core
    on a small machine). ``rebuild_index``: drop and rebuild the events index (default: on a
    fresh or small ledger). ``segment_rows``: events per transaction (a whole number of
    batches; a crash loses the unfinished segment, and ``next_line`` of the last segment yielded
    is where to resume).
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
        segment = _Segment(ledger, segment_rows, ledger.size())
        with multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker) as pool:
            pending: deque[tuple[Batch, Any]] = deque()
            source = batches(rows, batch_size, resume_from)
            try:
                for batch in source:
                    pending.append((batch, pool.apply_async(_prepare, (batch.events, actor))))
                    while len(pending) > workers or (pending and pending[0][1].ready()):
                        done, result = pending.popleft()
                        segment.add(done, *result.get())
                        if segment.full():
                            yield from segment.commit()
                while pending:
                    done, result = pending.popleft()
                    segment.add(done, *result.get())
                    if segment.full():
                        yield from segment.commit()
                yield from segment.commit()
            except BaseException:
                segment.abort()
                raise
            finally:
                _settle(pool, pending)
    finally:
        _worker_ledger = None
        # Also when this load kept the index: an earlier load killed mid-way may have left it dropped.
        rebuild_events_index(ledger)
        db.fold_wal(ledger.engine)


def _settle(pool: Any, pending: deque[tuple[Batch, Any]], wait_s: float = 60.0) -> None:
    """Let the workers finish the batches handed to them and exit, before the pool is torn down.

    ``Pool.terminate`` kills workers where they stand: one killed while putting its result holds
    the result queue's lock for ever, and the pool's task thread, putting its last sentinel on
    that queue, blocks, and so does the ``with`` block's exit (a load that failed mid-way hung a
    test run so). Closed and joined, the workers leave by their own sentinel and terminate finds
    nothing to kill. A worker that died leaves its batch unanswered: after ``wait_s`` the pool is
    terminated as it stands."""
    deadline = time.monotonic() + wait_s
    for _batch, result in pending:
        result.wait(max(0.0, deadline - time.monotonic()))
    pool.close()
    if all(result.ready() for _batch, result in pending):
        pool.join()


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
