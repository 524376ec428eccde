"""Four processes appending at once to PostgreSQL leave a gapless, valid ledger."""

from __future__ import annotations

import multiprocessing as mp
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from auditor.db import make_engine
from consent_ledger import Ledger
from tests.consent_ledger.conftest import grant

WORKERS, BATCHES, PER_BATCH = 4, 12, 25


def _worker(url: str, ledger_key: bytes, pem: bytes, worker: int, start, out) -> None:
    engine = make_engine(url)
    key = serialization.load_pem_private_key(pem, None)
    ledger = Ledger(engine, ledger_key, key, checkpoint_every_events=40)
    start.wait()
    seqs = []
    for b in range(BATCHES):
        done = ledger.append([grant(f"w{worker}-b{b}-{i}@example.org") for i in range(PER_BATCH)], f"worker{worker}")
        seqs.extend(d.seq for d in done)
    engine.dispose()
    out.put((worker, seqs))


def test_four_processes_append_concurrently_without_gaps(pg_url):
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    ledger_key = os.urandom(32)
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(pg_url, ledger_key, pem, w, start, out)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    total = WORKERS * BATCHES * PER_BATCH
    all_seqs = sorted(s for seqs in results.values() for s in seqs)
    assert all_seqs == list(range(1, total + 1))
    for seqs in results.values():  # each batch got one contiguous run of seqs
        runs = [seqs[i:i + PER_BATCH] for i in range(0, len(seqs), PER_BATCH)]
        assert all(r == list(range(r[0], r[0] + PER_BATCH)) for r in runs)
    engine = make_engine(pg_url)
    ledger = Ledger(engine, ledger_key, key)
    report = ledger.verify()
    assert report.ok, report
    assert report.size == total and report.checkpoints_checked >= total // (40 + PER_BATCH)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ledger_states")).scalar() == total
    engine.dispose()
