"""Full verification: every leaf, stored node and checkpoint, then the projection, streamed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from consent_ledger import db, projection
from consent_ledger.events import VerifyReport
from consent_ledger.merkle import EMPTY_ROOT, Frontier
from consent_ledger.proofs import ProofError, verify_checkpoint
from consent_ledger.schema import STATE_COLUMNS, checkpoints, events

if TYPE_CHECKING:
    from consent_ledger.ledger import Ledger

_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_sha256 = hashlib.sha256
BATCH = 20000
MAX_DIFFERENCES = 100


class _Fault(Exception):
    def __init__(self, seq: int | None, problem: str) -> None:
        self.seq, self.problem = seq, problem


PARALLEL_FROM = 100_000  # events; below this a second process costs more than it saves


def _snapshot(conn: Connection) -> Connection:
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _sqlite_reading(conn: Connection) -> None:
    """Memory-map the file and widen the page cache: pass 2 reads events in pseudonym order,
    i.e. at random, and syscalls per page would dominate."""
    conn.exec_driver_sql(f"PRAGMA mmap_size = {1 << 32}")
    conn.exec_driver_sql("PRAGMA cache_size = -262144")


def _projection_in_child(url: str) -> tuple[list[dict[str, Any]], tuple[int, str] | None]:
    """The event pass in another process (its own snapshot)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                _sqlite_reading(conn)
                conn.exec_driver_sql("BEGIN")  # one read transaction for both streams
            return _event_pass(_snapshot(conn))
    finally:
        engine.dispose()


def _start_child(url: str) -> subprocess.Popen:
    """``python -m consent_ledger.verify`` reading the database URL on stdin.

    A plain subprocess rather than multiprocessing: spawning would re-import the caller's
    ``__main__`` (a CLI, a WSGI server), which is not ours to run twice.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen([sys.executable, "-m", "consent_ledger.verify"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdin is not None
    child.stdin.write(url)
    child.stdin.close()
    return child


def _child_result(child: subprocess.Popen) -> tuple[list[dict[str, Any]], tuple[int, str] | None]:
    assert child.stdout is not None
    out = child.stdout.read()
    if child.wait() != 0:
        raise RuntimeError(f"the projection check failed in its process (exit {child.returncode})")
    doc = json.loads(out)
    return doc["diffs"], tuple(doc["fault"]) if doc["fault"] else None


def _can_fork_check(ledger: Ledger) -> bool:
    url = ledger.engine.url
    return url.get_backend_name() == "postgresql" or url.database not in (None, "", ":memory:")


def verify_ledger(ledger: Ledger, progress: Callable[[int], None] | None = None,
                  parallel: bool | None = None) -> VerifyReport:
    """Verify the ledger and name the first bad seq.

    Two passes, each over one consistent snapshot: the tree pass (seq order: gaps, leaf hashes,
    stored subtree hashes, checkpoints) and the event pass (pseudonym order: each event parsed,
    its seq and indexed columns checked, the projection rebuilt and compared). On large ledgers
    the event pass runs in a second process at the same time: both are CPU-bound.
    """
    size = ledger.size()
    if parallel is None:
        parallel = size >= PARALLEL_FROM
    parallel = parallel and _can_fork_check(ledger)
    db.fold_wal(ledger.engine)  # both passes read through a memory map; WAL pages bypass it
    child = _start_child(ledger.engine.url.render_as_string(hide_password=False)) if parallel else None
    try:
        with ledger.engine.connect() as raw:
            if raw.dialect.name == "sqlite":
                _sqlite_reading(raw)
            conn = _snapshot(raw)
            size = conn.scalar(sa.select(sa.func.max(events.c.seq))) or 0
            cps = list(conn.execute(sa.select(checkpoints).order_by(checkpoints.c.size, checkpoints.c.id)))
            try:
                _scan(conn, ledger, cps, progress)
                tree_fault = None
            except _Fault as fault:
                tree_fault = (fault.seq, fault.problem)
            if child is not None:
                diffs, event_fault = _child_result(child)
            else:
                diffs, event_fault = _event_pass(conn)
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
    faults = [f for f in (tree_fault, event_fault) if f is not None]
    if faults:
        seq, problem = min(faults, key=lambda f: (f[0] is None, f[0] or 0))
        return VerifyReport(False, size, seq, problem, len(cps), diffs)
    if diffs:
        seqs = [d["expected"]["last_seq"] if d["expected"] else d["stored"]["last_seq"] for d in diffs]
        return VerifyReport(False, size, min(seqs),
                            f"the current-state projection differs from the events for {len(diffs)}"
                            f"{'+' if len(diffs) >= MAX_DIFFERENCES else ''} key(s)", len(cps), diffs)
    return VerifyReport(True, size, None, None, len(cps))


def _rows(conn: Connection, sql: str, name: str) -> Iterator[tuple]:
    """Stream rows on the DBAPI cursor (server-side on PostgreSQL), in the connection's transaction.

    Bypasses SQLAlchemy's per-row processing: at a million rows it costs more than the hashing.
    """
    dbapi = conn.connection.dbapi_connection
    cur = dbapi.cursor(name=name) if conn.dialect.name == "postgresql" else dbapi.cursor()
    try:
        cur.execute(sql)
        while batch := cur.fetchmany(BATCH):
            yield from batch
    finally:
        cur.close()


def _misplaced(seq: int, text: str) -> _Fault | None:
    """The fault when an event's own seq says it belongs elsewhere (reordered or inserted rows)."""
    try:
        said = json.loads(text).get("seq")
    except (ValueError, AttributeError):
        return _Fault(seq, "the stored event is not a JSON object (edited)")
    if said == seq:
        return None
    if isinstance(said, int) and 1 <= said < seq:  # rows were slipped in at or before ``said``
        return _Fault(said, f"event {said} is stored at seq {seq}: {seq - said} row(s) inserted at or "
                            f"after seq {said} (rows reordered, inserted or renumbered)")
    return _Fault(seq, f"the event says seq {said} but is stored at seq {seq} "
                       "(rows reordered, inserted or renumbered)")


def _scan(conn: Connection, ledger: Ledger, cps: list[Any], progress: Callable[[int], None] | None) -> None:
    """The tree pass: raises _Fault at the first problem in seq order."""
    frontier = Frontier()
    push = frontier.append
    pending = iter(cps)
    cp = next(pending, None)
    good_size = 0  # the largest checkpoint size verified so far

    def check_checkpoints(size: int, root: bytes) -> None:
        nonlocal cp, good_size
        while cp is not None and cp.size == size:
            doc = {"size": cp.size, "root": cp.root, "time": cp.time, "key_id": cp.key_id,
                   "signature": cp.signature}
            try:
                signed_root = verify_checkpoint(doc, ledger.public_key)
            except ProofError as exc:
                raise _Fault(size or None, f"checkpoint #{cp.id} (size {size}): {exc}") from None
            if signed_root != root:
                raise _Fault(good_size + 1, f"the tree at size {size} does not match signed checkpoint "
                                            f"#{cp.id}: an event between seq {good_size + 1} and {size} "
                                            "was rewritten")
            good_size = size
            cp = next(pending, None)

    check_checkpoints(0, EMPTY_ROOT)
    next_cp = cp.size if cp is not None else -1
    expected = 1
    sql = "SELECT seq, event, leaf_hash, nodes FROM ledger_events ORDER BY seq"
    for seq, text, stored_leaf, nodes in _rows(conn, sql, "ledger_verify_tree"):
        if seq != expected:
            raise _Fault(expected, f"seq {expected} is missing (the next stored row is seq {seq}): "
                                   "rows deleted or renumbered")
        leaf = _sha256(b"\x00" + text.encode()).digest()
        if leaf != stored_leaf:
            raise _misplaced(seq, text) or _Fault(
                seq, "the event does not match its stored leaf hash (event or hash edited)")
        if b"".join(push(leaf)) != nodes:
            raise _misplaced(seq, text) or _Fault(
                seq, "the stored subtree hashes of this row differ from the recomputed tree")
        if seq == next_cp:
            check_checkpoints(seq, frontier.root())
            next_cp = cp.size if cp is not None else -1
        if progress is not None and seq % BATCH == 0:
            progress(BATCH)
        expected += 1
    if progress is not None:
        progress((expected - 1) % BATCH)
    if cp is not None:
        raise _Fault(expected, f"checkpoint #{cp.id} was signed at size {cp.size} but the ledger ends "
                               f"at seq {expected - 1}: events deleted")


class _Faults:
    """The smallest-seq fault seen by the event pass (it reads in pseudonym order)."""

    def __init__(self) -> None:
        self.first: tuple[int, str] | None = None

    def add(self, fault: _Fault) -> None:
        if self.first is None or fault.seq < self.first[0]:
            self.first = (fault.seq, fault.problem)


def _expected_groups(conn: Connection, faults: _Faults) -> Iterator[tuple[str, dict]]:
    sql = ("SELECT pseudonym, seq, type, channel, purpose, recorded_at, event FROM ledger_events "
           "ORDER BY pseudonym, seq")
    apply = projection.apply
    loads = json.loads
    for p, group in groupby(_rows(conn, sql, "ledger_verify_events"), key=itemgetter(0)):
        rows: dict[tuple[str, str], dict] = {}
        for _, seq, kind, channel, purpose, recorded, text in group:
            try:
                ev = loads(text)
                if (ev["seq"], ev["pseudonym"], ev["type"], ev["channel"], ev["purpose"],
                        ev["recorded_at"]) != (seq, p, kind, channel, purpose, recorded):
                    faults.add(_misplaced(seq, text) or _Fault(
                        seq, "the indexed columns differ from the hashed event (edited)"))
                apply(rows, ev)
            except (ValueError, TypeError, KeyError, AttributeError):
                faults.add(_Fault(seq, "the stored event is not a well-formed ledger event (edited)"))
        yield p, rows


def _stored_groups(conn: Connection) -> Iterator[tuple[str, dict]]:
    sql = f"SELECT {', '.join(STATE_COLUMNS)} FROM ledger_states ORDER BY pseudonym, channel, purpose"  # noqa: S608
    for p, group in groupby(_rows(conn, sql, "ledger_verify_states"), key=itemgetter(0)):
        yield p, {(r[1], r[2]): r for r in group}


def _as_dict(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    d = dict(zip(STATE_COLUMNS, row, strict=True)) if isinstance(row, tuple) else dict(row)
    d["confirmed"], d["evidence_complete"] = bool(d["confirmed"]), bool(d["evidence_complete"])
    return d


def _event_pass(conn: Connection) -> tuple[list[dict[str, Any]], tuple[int, str] | None]:
    """Check every event's seq and columns, rebuild the projection, list where it differs."""
    faults = _Faults()
    diffs: list[dict[str, Any]] = []
    expected, stored = _expected_groups(conn, faults), _stored_groups(conn)
    e, s = next(expected, None), next(stored, None)
    while e is not None or s is not None:
        if s is None or (e is not None and e[0] < s[0]):
            p, want, have = e[0], e[1], {}
            e = next(expected, None)
        elif e is None or s[0] < e[0]:
            p, want, have = s[0], {}, s[1]
            s = next(stored, None)
        else:
            p, want, have = e[0], e[1], s[1]
            e, s = next(expected, None), next(stored, None)
        if len(diffs) >= MAX_DIFFERENCES:
            continue  # keep reading: the event checks must see every event
        if want.keys() == have.keys() and all(_state_tuple(w) == tuple(have[k]) for k, w in want.items()):
            continue  # the usual case, without sorting the keys
        for key in sorted(set(want) | set(have)):
            w, h = want.get(key), have.get(key)
            # True == 1: SQLite's 0/1 booleans compare equal to Python's
            if w is None or h is None or _state_tuple(w) != tuple(h):
                diffs.append({"pseudonym": p, "channel": key[0], "purpose": key[1],
                              "expected": _as_dict(w), "stored": _as_dict(h)})
    return diffs, faults.first


_state_tuple = itemgetter(*STATE_COLUMNS)


if __name__ == "__main__":  # the event pass of a parallel verify, see _start_child
    diffs_, fault_ = _projection_in_child(sys.stdin.read())
    print(json.dumps({"diffs": diffs_, "fault": fault_}))
