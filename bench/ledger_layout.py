"""What the ledger's storage layout alone costs to append to, and what another layout would.

Raw ``sqlite3`` with no ledger logic: batches of new subjects are written into

* ``current``: the ledger's layout today: events with a ``(pseudonym, seq)`` index, the
  projection keyed by ``(pseudonym, channel, purpose)``, the vault keyed by pseudonym: three
  B-trees keyed by random HMAC values;
* ``two_vault_tables``: the layout before migration 0006, the vault's wrapped key and sealed
  identity in two tables: four random-key B-trees;
* ``subject_id``: one table maps a pseudonym to an integer assigned at first sight (the only
  random key) and holds the sealed identity; events, projection and their index are keyed by
  that integer, so new subjects append at the right edge of every other B-tree;
* ``one_random_tree``: the least any layout can write and still read a recipient's state in one
  probe by pseudonym: the projection keyed by pseudonym, events appended by ``seq`` with no
  index at all, no vault;
* ``bare``: the same rows into tables without keys or indexes (bench/ledger.py's baseline).

After the writes, each keyed layout also reads the state of half its subjects (sorted, in
``IN`` chunks of 500, as ``Ledger.current_states`` does): one probe per recipient in the
pseudonym-keyed layouts, two (the mapping, then the state) in ``subject_id``.

Run: ``python bench/ledger_layout.py [--quick] [--events N]``. Prints one JSON document with events/s per
layout, measured in the same run. It informs the open append-rate target (docs/ledger.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from consent_ledger.db import SQLITE_CACHE_KIB, SQLITE_CHECKPOINT_PAGES  # noqa: E402

BATCH = 5000
EVENT = '{"actor":"bench","channel":"email",' + '"x":"' + "e" * 700 + '"}'  # ~ a stored event's size
NOW = "2026-11-29T10:00:00.000000Z"

_STATE_COLUMNS = ("status TEXT, confirmed, expires_at, last_seq, updated_at, granted_at, method, complete, "
                  "separate, pre_ticked, bundled, notice")


def _ev(key: str, seq: str = "INTEGER") -> str:
    # BIGINT, as the ledger declares it, is not SQLite's rowid alias: a second, sequential B-tree.
    return (f"CREATE TABLE ev (seq {seq} PRIMARY KEY, {key}, type TEXT, channel TEXT, purpose TEXT, "
            "event TEXT, leaf_hash BLOB, nodes BLOB, recorded_at TEXT)")


def _st(key: str) -> str:
    return (f"CREATE TABLE st ({key}, channel TEXT, purpose TEXT, {_STATE_COLUMNS}, "
            f"PRIMARY KEY ({key.split()[0]}, channel, purpose)) WITHOUT ROWID")


_BY_PSEUDONYM = [_ev("pseudonym TEXT", "BIGINT"), "CREATE INDEX ev_p ON ev (pseudonym, seq)", _st("pseudonym TEXT")]

SCHEMAS = {
    "current": [*_BY_PSEUDONYM,
                "CREATE TABLE sv (pseudonym TEXT PRIMARY KEY, wrapped BLOB, sealed BLOB) WITHOUT ROWID"],
    "two_vault_tables": [*_BY_PSEUDONYM,
                         "CREATE TABLE sk (pseudonym TEXT PRIMARY KEY, wrapped BLOB) WITHOUT ROWID",
                         "CREATE TABLE si (pseudonym TEXT PRIMARY KEY, sealed BLOB) WITHOUT ROWID"],
    "subject_id": [
        "CREATE TABLE subj (id INTEGER PRIMARY KEY, pseudonym TEXT NOT NULL UNIQUE, wrapped BLOB, sealed BLOB)",
        _ev("subject INT"), "CREATE INDEX ev_s ON ev (subject, seq)", _st("subject INT")],
    "one_random_tree": [_ev("pseudonym TEXT"), _st("pseudonym TEXT")],
    "bare": [
        "CREATE TABLE ev (seq, pseudonym, type, channel, purpose, event, leaf_hash, nodes, recorded_at)",
        "CREATE TABLE st (pseudonym, channel, purpose, status, confirmed, expires_at, last_seq, updated_at, "
        "granted_at, method, complete, separate, pre_ticked, bundled, notice)",
        "CREATE TABLE sv (pseudonym, wrapped, sealed)",
    ],
}


def _state(key: object, seq: int) -> tuple:
    return (key, "email", "marketing", "granted", 1, None, seq, NOW, "2026-11-01T10:00:00Z", "web_form",
            1, 1, 0, 0, "v1")


def run(layout: str, folder: Path, n: int) -> float:
    """Events/s appending ``n`` new subjects in batches of BATCH, one transaction each."""
    db = sqlite3.connect(folder / f"{layout}.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"cache_size=-{SQLITE_CACHE_KIB}",
                   f"wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}"):  # as the ledger's appender
        db.execute(f"PRAGMA {pragma}")
    for sql in SCHEMAS[layout]:
        db.execute(sql)
    blob = os.urandom(60)
    started = time.perf_counter()
    for first in range(1, n + 1, BATCH):
        seqs = range(first, min(first + BATCH, n + 1))
        ps = [hashlib.sha256(b"%d" % s).hexdigest() for s in seqs]  # random, as HMAC pseudonyms are
        db.execute("BEGIN IMMEDIATE")
        if layout == "subject_id":
            marks = ",".join("?" * len(ps))
            ids = dict(db.execute(f"SELECT pseudonym, id FROM subj WHERE pseudonym IN ({marks})", ps))  # noqa: S608
            top = db.execute("SELECT coalesce(max(id), 0) FROM subj").fetchone()[0]
            new = [(top + k + 1, p, blob, blob) for k, p in enumerate(p for p in ps if p not in ids)]
            db.executemany("INSERT INTO subj VALUES (?, ?, ?, ?)", new)
            ids.update((p, i) for i, p, _w, _s in new)
            keys = [ids[p] for p in ps]
        else:
            keys = ps
        db.executemany("INSERT INTO ev VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(s, k, "granted", "email", "marketing", EVENT, blob[:32], b"", NOW)
                        for s, k in zip(seqs, keys, strict=True)])
        db.executemany(f"INSERT INTO st VALUES ({', '.join('?' * 15)})",  # noqa: S608
                       [_state(k, s) for s, k in zip(seqs, keys, strict=True)])
        if layout in ("current", "bare"):
            db.executemany("INSERT INTO sv VALUES (?, ?, ?)", [(p, blob, blob) for p in ps])
        elif layout == "two_vault_tables":
            db.executemany("INSERT INTO sk VALUES (?, ?)", [(p, blob) for p in ps])
            db.executemany("INSERT INTO si VALUES (?, ?)", [(p, blob) for p in ps])
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - started)
    db.close()
    return rate


READS = {
    "current": "SELECT pseudonym, status, last_seq FROM st WHERE channel = ? AND purpose = ? AND pseudonym IN",
    "one_random_tree": "SELECT pseudonym, status, last_seq FROM st WHERE channel = ? AND purpose = ? AND pseudonym IN",
    "subject_id": "SELECT s.pseudonym, status, last_seq FROM subj s JOIN st ON st.subject = s.id "
                  "AND st.channel = ? AND st.purpose = ? WHERE s.pseudonym IN",
}


def read(layout: str, folder: Path, n: int) -> float:
    """Seconds to read the state of every second subject, sorted, in ``IN`` chunks of 500."""
    wanted = sorted(hashlib.sha256(b"%d" % s).hexdigest() for s in range(1, n + 1, 2))
    db = sqlite3.connect(folder / f"{layout}.db")
    db.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    started, found = time.perf_counter(), 0
    for i in range(0, len(wanted), 500):
        part = wanted[i:i + 500]
        found += len(db.execute(f"{READS[layout]} ({','.join('?' * len(part))})",
                                ["email", "marketing", *part]).fetchall())
    elapsed = time.perf_counter() - started
    db.close()
    if found != len(wanted):
        raise RuntimeError(f"{layout}: read {found} states of {len(wanted)}")
    return elapsed


def main() -> None:
    """Measure each layout and print the JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20,000 events, a few seconds")
    args = parser.parse_args()
    if args.quick:
        args.events = 20_000
    with tempfile.TemporaryDirectory(prefix="bench-layout-") as tmp:
        rates = {layout: run(layout, Path(tmp), args.events)
                 for layout in ("bare", "current", "two_vault_tables", "one_random_tree", "subject_id")}
        reads = {layout: read(layout, Path(tmp), args.events) for layout in READS}
    print(json.dumps({"bench": "ledger_layout", "events": args.events, "batch": BATCH,
                      "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "sqlite": sqlite3.sqlite_version},
                      "results": [{"layout": k, "events_per_second": round(v),
                                   "ratio_to_bare": round(v / rates["bare"], 3),
                                   **({"read_half_seconds": round(reads[k], 3),
                                       "read_ratio_to_current": round(reads[k] / reads["current"], 2)}
                                      if k in reads else {})}
                                  for k, v in rates.items()]},
                     indent=2))


if __name__ == "__main__":
    main()
