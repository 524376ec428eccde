"""The bulk import leaves byte for byte what the streaming import leaves, and survives a crash."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from auditor.db import make_engine
from auditor.migrations import upgrade
from consent_ledger import Ledger, bulkload
from consent_ledger import ledger as ledger_module
from consent_ledger.bulkload import batches, bulk_append
from consent_ledger.importing import read_rows
from tests.conftest import _pg_admin, _url_for

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
_REAL_PREPARE = bulkload._prepare
HEADER = "type,subject,pseudonym,channel,purpose,ip,user_agent,source_url,separate_document,claimed_at,reason\n"


def _csv(erased: str) -> str:
    """Grants with personal evidence, repeats across batches, withdrawals, bad and refused rows."""
    lines = [HEADER]
    for i in range(60):
        lines.append(f"granted,user{i}@example.org,,email,marketing,198.51.100.{i},UA {i},"
                     f"https://shop.example/f,true,2026-11-{i % 28 + 1:02d}T10:00:00Z,\n")
        if i % 9 == 4:
            lines.append("granted,not-an-address,,email,marketing,,,,,,\n")  # bad: the address
        if i % 11 == 7:
            lines.append(f"confirmed,user{i}@example.org,,email,marketing,,,,maybe,,\n")  # bad: the flag
        if i % 7 == 3:  # the same subject again, usually in a later batch
            lines.append(f"withdrawn,user{i // 2}@example.org,,email,*,198.51.100.9,,,,,"
                         f"\"asked by phone, ticket {i}\"\n")
    lines.append(f"granted,{erased},,email,marketing,,,,,2026-10-01T10:00:00Z,\n")  # refused: before erasure
    lines.append("granted,,%s,sms,marketing,203.0.113.1,,,,,\n" % ("ab" * 32))  # by pseudonym, sealed
    lines.append("confirmed,user1@example.org,,email,marketing,,,,,,\n")
    return "".join(lines)


def _digest(*parts: bytes | str) -> bytes:
    return hashlib.sha256(b"|".join(p.encode() if isinstance(p, str) else p for p in parts)).digest()


@pytest.fixture
def pinned_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subject keys and nonces derived from their inputs: the only randomness in an append, so
    two ledgers built from the same file can be compared byte for byte."""

    def seal_identifier(key: bytes, p: str, identifier: str) -> bytes:
        nonce = _digest(b"i", key, p, identifier)[:12]
        return nonce + AESGCM(key).encrypt(nonce, identifier.encode(), p.encode())

    def new_subject(kek: AESGCM, p: str, identifier: str | None) -> tuple[bytes, bytes, bytes]:
        key, nonce = _digest(b"k", p), _digest(b"n", p)[:12]
        sealed = b"" if identifier is None else seal_identifier(key, p, identifier)
        return key, nonce + kek.encrypt(nonce, key, p.encode()), sealed

    def seal_personal(key: bytes, p: str, plaintext: bytes) -> str:
        nonce = _digest(b"p", key, p, plaintext)[:12]
        return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, b"personal:" + p.encode())).decode()

    for name, fn in (("seal_identifier", seal_identifier), ("new_subject", new_subject),
                     ("seal_personal", seal_personal)):
        monkeypatch.setattr(ledger_module, name, fn)


@pytest.fixture
def two_engines(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """The test's fresh database and a second fresh one on the same engine kind."""
    if db_url.startswith("sqlite"):
        other = f"sqlite:///{tmp_path / 'other.db'}"
        engine = make_engine(other)
        upgrade(engine)
        engine.dispose()
        dropper: Callable[[], None] = lambda: None  # noqa: E731
    else:
        admin = _pg_admin()
        name = f"auditor_t_{os.getpid()}_{os.urandom(4).hex()}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("pg_template")}"'))
        other = _url_for(name)

        def dropper() -> None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    a, b = make_engine(db_url), make_engine(other)
    yield a, b
    a.dispose()
    b.dispose()
    dropper()


@pytest.fixture
def ledgers(two_engines: tuple[Engine, Engine], pinned_randomness: None) -> tuple[Ledger, Ledger, str]:
    """Two ledgers with the same keys and clock, each holding the same erased subject."""
    ledger_key, signing = os.urandom(32), Ed25519PrivateKey.generate()
    made = [Ledger(e, ledger_key, signing, checkpoint_every_events=10, clock=lambda: NOW) for e in two_engines]
    erased = "gone@example.org"
    for lg in made:
        lg.append(list(r.event for r in read_rows(io.StringIO(
            HEADER + f"granted,{erased},,email,marketing,,,,,2026-09-01T10:00:00Z,\n"), "csv")), "setup")
        lg.erase(erased, "setup")
    return made[0], made[1], erased


def _stream(ledger: Ledger, data: str, size: int) -> None:
    groups = [b.events for b in batches(read_rows(io.StringIO(data), "csv"), size)]
    for _ in ledger.append_stream(groups, "import", keep_good=True):
        pass


def _stored(ledger: Ledger) -> dict[str, list[tuple]]:
    out = {}
    with ledger.engine.connect() as conn:
        for table, order in (("ledger_events", "seq"), ("ledger_states", "pseudonym, channel, purpose"),
                             ("ledger_vault", "pseudonym"), ("ledger_checkpoints", "id")):
            out[table] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                          for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))]  # noqa: S608
    return out


def _index_exists(ledger: Ledger) -> bool:
    return "ix_ledger_events_pseudonym_seq" in {i["name"] for i in inspect(ledger.engine).get_indexes("ledger_events")}


def test_bulk_and_streaming_leave_identical_ledgers(ledgers):
    streaming, bulk, erased = ledgers
    data = _csv(erased)
    _stream(streaming, data, 7)
    done = list(bulk_append(bulk, read_rows(io.StringIO(data), "csv", raw=True), "import", batch_size=7, workers=2))
    expected = _stored(streaming)
    assert len(expected["ledger_events"]) > 70 and len(expected["ledger_checkpoints"]) > 5
    assert _stored(bulk) == expected
    assert bulk.latest_checkpoint() == streaming.latest_checkpoint()
    assert bulk.consistency_proof(1, bulk.size()) == streaming.consistency_proof(1, streaming.size())
    bad = sorted(line for d in done for line, _ in d.bad)
    assert len(bad) == 7 + 5 + 1  # bad addresses, bad flags, the grant claimed before the erasure
    refused = [why for d in done for _, why in d.bad if "claimed_at" in why]
    assert len(refused) == 1
    assert done[-1].next_line == data.count("\n") + 1
    assert bulk.verify().ok and _index_exists(bulk)
    # The personal evidence sealed by the workers opens under the subject's key.
    p = bulk.pseudonym_of("user3@example.org")
    assert bulk.history(p)[0]["evidence"]["ip"] == "198.51.100.3"


def test_a_crash_mid_load_leaves_a_ledger_that_verifies_and_the_resume_completes_it(ledgers):
    streaming, bulk, erased = ledgers
    data = _csv(erased)
    _stream(streaming, data, 7)
    real, calls = bulk._maybe_checkpoint, []

    def crash(*args):  # inside the batch's transaction, after its rows were written
        calls.append(1)
        if len(calls) == 4:
            raise OSError("disk gone")
        return real(*args)

    bulk._maybe_checkpoint = crash
    done = []
    with pytest.raises(OSError, match="disk gone"):
        for d in bulk_append(bulk, read_rows(io.StringIO(data), "csv", raw=True), "import", batch_size=7, workers=2,
                             segment_rows=12):
            done.append(d)
    del bulk._maybe_checkpoint
    # Batches are committed in segments of >= 12 events: the first segment (two or three
    # batches) is reported, once, and kept; the segment the fourth batch was in left nothing.
    assert len(done) == 1 and len(done[0].appended) >= 12
    # One report for the segment: each event's index names its line across the segment's batches.
    got, bad = [done[0].lines[a.index] for a in done[0].appended], {line for line, _ in done[0].bad}
    assert got == sorted(set(got)) and not set(got) & bad and set(got) | bad >= set(done[0].lines)
    assert bulk.size() == 2 + sum(len(d.appended) for d in done)
    assert bulk.verify().ok
    assert _index_exists(bulk)  # rebuilt although the load failed
    list(bulk_append(bulk, read_rows(io.StringIO(data), "csv", raw=True), "import", batch_size=7,
                     resume_from=done[-1].next_line))
    assert _stored(bulk) == _stored(streaming)
    assert bulk.verify().ok


def test_resume_skips_the_lines_before(ledgers):
    _, bulk, _ = ledgers
    data = HEADER + "".join(f"granted,r{i}@example.org,,email,marketing,,,,,,\n" for i in range(10))
    done = list(bulk_append(bulk, read_rows(io.StringIO(data), "csv"), "import", batch_size=4, resume_from=8))
    assert [d.lines for d in done] == [[8, 9, 10, 11]]
    assert bulk.size() == 2 + 4


def test_a_load_restores_the_index_a_killed_load_left_dropped(ledgers):
    _, bulk, _ = ledgers
    with bulk.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_ledger_events_pseudonym_seq"))
    data = HEADER + "granted,k@example.org,,email,marketing,,,,,,\n"
    list(bulk_append(bulk, read_rows(io.StringIO(data), "csv"), "import", rebuild_index=False))
    assert _index_exists(bulk) and bulk.verify().ok


@pytest.fixture
def fresh_ledgers(two_engines: tuple[Engine, Engine], pinned_randomness: None) -> tuple[Ledger, Ledger]:
    """Two empty ledgers with the same keys and clock."""
    ledger_key, signing = os.urandom(32), Ed25519PrivateKey.generate()
    a, b = (Ledger(e, ledger_key, signing, checkpoint_every_events=10, clock=lambda: NOW) for e in two_engines)
    return a, b


def test_a_fresh_ledger_loaded_in_segments_is_the_streaming_one(fresh_ledgers):
    # Subjects come back within a segment and in later segments (whose states the loader must read
    # back although the ledger was empty when the load began), with warnings and bad rows.
    streaming, bulk = fresh_ledgers
    data = _csv("late@example.org")
    groups = [b.events for b in batches(read_rows(io.StringIO(data), "csv"), 7)]
    warned = [(a.seq, a.warning) for out, _ in streaming.append_stream(groups, "import") for a in out if a.warning]
    done = list(bulk_append(bulk, read_rows(io.StringIO(data), "csv", raw=True), "import", batch_size=7, workers=2,
                            segment_rows=20))
    assert _stored(bulk) == _stored(streaming)
    assert [(a.seq, a.warning) for d in done for a in d.appended if a.warning] == warned and warned
    assert len([line for d in done for line, _ in d.bad]) == 7 + 5
    assert bulk.verify().ok and _index_exists(bulk)


def test_appends_between_two_segments_are_read_back_not_overwritten(fresh_ledgers):
    # The ledger was empty when the load began; an API append lands between two segments for a
    # subject the file names later: its state must be read, not taken for a new subject.
    _, bulk = fresh_ledgers
    data = HEADER + "".join(f"granted,s{i}@example.org,,email,marketing,,,,,2026-11-01T10:00:00Z,\n"
                            for i in range(12))
    data += "granted,s0@example.org,,email,news,,,,,2026-11-02T10:00:00Z,\n"
    loading = bulk_append(bulk, read_rows(io.StringIO(data), "csv", raw=True), "import", batch_size=4,
                          segment_rows=4)
    first = next(loading)
    assert first.next_line == 6
    withdrawal = read_rows(io.StringIO(HEADER + "withdrawn,s9@example.org,,email,*,,,,,2026-11-05T10:00:00Z,\n"), "csv")
    bulk.append([r.event for r in withdrawal], "api")
    rest = list(loading)
    assert sum(len(d.appended) for d in [first, *rest]) == 13
    p = bulk.pseudonym_of("s9@example.org")
    # The file's grant was claimed before the withdrawal: it is recorded and ignored.
    assert {(s.channel, s.purpose): s.status for s in bulk.states_of(p)} == {
        ("email", "*"): "withdrawn", ("email", "marketing"): "withdrawn"}
    assert any(a.warning for d in rest for a in d.appended if a.pseudonym == p)
    assert bulk.verify().ok


def test_a_subject_new_in_two_batches_of_a_segment_keeps_one_key_that_opens_all_its_evidence(two_engines):
    # Real randomness: the workers prepare both batches before either is written, so each makes
    # the subject a key; the writer keeps the first and reseals the second batch's evidence.
    engine, _ = two_engines
    ledger = Ledger(engine, os.urandom(32), Ed25519PrivateKey.generate())
    data = (HEADER + "granted,twice@example.org,,email,marketing,192.0.2.1,,,,,\n"
            + "granted,other@example.org,,email,marketing,,,,,,\n"
            + "withdrawn,twice@example.org,,email,marketing,192.0.2.2,,,,,\"by phone\"\n")
    done = list(bulk_append(ledger, read_rows(io.StringIO(data), "csv", raw=True), "import", batch_size=2,
                            workers=2))
    assert sum(len(d.appended) for d in done) == 3
    history = ledger.history(ledger.pseudonym_of("twice@example.org"))
    assert [(e["evidence"]["ip"], e["reason"]) for e in history] == [("192.0.2.1", None), ("192.0.2.2", "by phone")]
    assert ledger.identity(ledger.pseudonym_of("twice@example.org")) == "twice@example.org"
    assert ledger.verify().ok


def _slow_on_pseudonyms(items: list, actor: str):
    """A worker's ``_prepare`` that takes a second over a batch naming a pseudonym (picklable)."""
    if items and isinstance(items[0], dict) and items[0].get("pseudonym"):
        time.sleep(1.0)
    return _REAL_PREPARE(items, actor)


def _late_address(ledger: Ledger) -> tuple[str, str]:
    """A subject first given by pseudonym alone (with sealed evidence), then by its address."""
    p = ledger.pseudonym_of("kiosk@example.org")
    return p, (HEADER + f"granted,,{p},email,marketing,203.0.113.1,,,,,\n"
               + "granted,Kiosk@Example.org,,email,marketing,198.51.100.1,,,,,\n")


def test_an_address_prepared_before_its_pseudonym_only_row_was_committed_stays_in_the_vault(ledgers, monkeypatch):
    streaming, bulk, _ = ledgers
    p, data = _late_address(streaming)
    first, second = (r.event for r in read_rows(io.StringIO(data), "csv"))
    # The streaming import prepares the next batch while the current one is written: here the
    # address's batch is prepared before the pseudonym's batch is committed.
    a = streaming.prepare([first], "import", keep_good=True)
    b = streaming.prepare([second], "import", keep_good=True)
    assert [v[0] for v in a.vault] == [p] and [v[0] for v in b.vault] == [p]  # both made the subject a key
    streaming.commit(a, keep_good=True)
    streaming.commit(b, keep_good=True)
    assert streaming.identity(p) == "kiosk@example.org"
    assert [e["evidence"]["ip"] for e in streaming.history(p)] == ["203.0.113.1", "198.51.100.1"]

    # The bulk import: the first batch's worker is slow, so the second is prepared before it.
    monkeypatch.setattr(bulkload, "_prepare", _slow_on_pseudonyms)
    list(bulk_append(bulk, read_rows(io.StringIO(data), "csv", raw=True), "import", batch_size=1, workers=2))
    assert bulk.identity(p) == "kiosk@example.org"
    assert _stored(bulk) == _stored(streaming)
    assert bulk.verify().ok
