"""SQLite appends let the WAL grow between checkpoints; a finished stream and verify fold it back.

Observed through the database file itself: a commit in WAL mode writes only the WAL, and a
checkpoint copies the pages into the file, so the file grows only when a checkpoint ran.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auditor.db import make_engine
from consent_ledger import Ledger
from consent_ledger.db import fold_wal
from tests.consent_ledger.conftest import grant


def test_appends_wait_in_the_wal_until_a_stream_ends_or_verify_starts(sqlite_url):
    engine = make_engine(sqlite_url)
    ledger = Ledger(engine, os.urandom(32), Ed25519PrivateKey.generate())
    path = engine.url.database
    try:
        ledger.append([grant("first@example.org")], "test")
        fold_wal(engine)
        start = os.path.getsize(path)
        # ~2,000 pages: SQLite's default (1,000) would checkpoint at this commit; the ledger's does not.
        ledger.append([grant(f"wal{i}@example.org") for i in range(4000)], "test")
        assert os.path.getsize(path + "-wal") > 1000 * 4096
        assert os.path.getsize(path) == start
        fold_wal(engine)
        folded = os.path.getsize(path)
        assert folded > start

        list(ledger.append_stream([[grant(f"s{b}-{i}@example.org") for i in range(500)] for b in range(3)], "test"))
        streamed = os.path.getsize(path)
        assert streamed > folded  # the stream's end copied its pages into the file

        ledger.append([grant(f"v{i}@example.org") for i in range(1000)], "test")
        assert os.path.getsize(path) == streamed  # waiting in the WAL again
        assert ledger.verify(parallel=False).ok
        assert os.path.getsize(path) > streamed  # verify copied them before reading
    finally:
        engine.dispose()
