"""verify names the first bad seq after any edit, deletion, insertion or reordering behind its back."""

from __future__ import annotations

import json

from consent_ledger.canonical import canonical_json
from consent_ledger.merkle import leaf_hash


def _rewrite(intruder, at: int, **changes) -> str:
    event = json.loads(intruder.event(at))
    event.update(changes)
    return canonical_json(event).decode()


def test_edited_event_is_caught_at_its_seq(filled, intruder):
    intruder.run("UPDATE ledger_events SET event = :e WHERE seq = 7", e=_rewrite(intruder, 7, type="withdrawn"))
    report = filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 7)
    assert "leaf hash" in report.problem


def test_edited_event_with_recomputed_leaf_hash_is_caught_by_the_stored_tree(filled, intruder):
    forged = _rewrite(intruder, 6, purpose="news")
    intruder.run("UPDATE ledger_events SET event = :e, leaf_hash = :h, purpose = 'news' WHERE seq = 6",
                 e=forged, h=leaf_hash(forged.encode()))
    report = filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert "subtree" in report.problem


def test_rewriting_the_tree_too_is_caught_by_the_signed_checkpoint(filled, intruder, engine):
    """An intruder who recomputes every hash after seq 18 still cannot re-sign the checkpoint."""
    from sqlalchemy import text

    from consent_ledger.merkle import Frontier

    forged = {18: _rewrite(intruder, 18, purpose="news")}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, event FROM ledger_events ORDER BY seq")).all()
    f = Frontier()
    for seq, ev in rows:
        data = forged.get(seq, ev).encode()
        lh = leaf_hash(data)
        nodes = b"".join(f.append(lh))
        if seq >= 18:
            intruder.run("UPDATE ledger_events SET event = :e, leaf_hash = :h, nodes = :n, purpose = :p "
                         "WHERE seq = :s", e=data.decode(), h=lh, n=nodes, s=seq,
                         p=json.loads(data)["purpose"])
    report = filled.verify()
    assert not report.ok
    assert report.first_bad_seq == 16  # the last good checkpoint covers seq 1..15
    assert "checkpoint" in report.problem and "between seq 16 and 19" in report.problem


def test_deleted_row_is_caught_at_its_seq(filled, intruder):
    intruder.run("DELETE FROM ledger_events WHERE seq = 9")
    report = filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 9)
    assert "missing" in report.problem


def test_deleted_tail_is_caught_by_the_checkpoint(filled, intruder):
    intruder.run("DELETE FROM ledger_events WHERE seq > 20")
    report = filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 21)
    assert "deleted" in report.problem


def test_inserted_row_is_caught_where_the_numbering_shifts(filled, intruder):
    """Insert a forged event as seq 5 and shift the rest up by one."""
    with intruder.engine.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(text("SELECT * FROM ledger_events WHERE seq >= 5 ORDER BY seq DESC")).mappings().all()
    for r in rows:
        intruder.run("DELETE FROM ledger_events WHERE seq = :s", s=r["seq"])
    forged = _rewrite(intruder, 4, seq=5, type="granted")
    cols = "seq, pseudonym, type, channel, purpose, event, leaf_hash, nodes, recorded_at"
    for r in rows:
        intruder.run(f"INSERT INTO ledger_events ({cols}) VALUES (:seq, :pseudonym, :type, :channel, :purpose, "  # noqa: S608
                     ":event, :leaf_hash, :nodes, :recorded_at)", **{**r, "seq": r["seq"] + 1})
    ev = json.loads(forged)
    intruder.run(f"INSERT INTO ledger_events ({cols}) VALUES (5, :p, 'granted', :c, :u, :e, :h, :n, :r)",  # noqa: S608
                 p=ev["pseudonym"], c=ev["channel"], u=ev["purpose"], e=forged, h=leaf_hash(forged.encode()),
                 n=b"", r=ev["recorded_at"])
    report = filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 5)


def test_swapped_rows_are_caught_at_the_first(filled, intruder):
    a, b = intruder.event(11), intruder.event(12)
    intruder.run("UPDATE ledger_events SET event = :e WHERE seq = 11", e=b)
    intruder.run("UPDATE ledger_events SET event = :e WHERE seq = 12", e=a)
    report = filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 11)
    assert "reordered" in report.problem


def test_edited_indexed_column_is_caught(filled, intruder):
    intruder.run("UPDATE ledger_events SET type = 'withdrawn' WHERE seq = 3")
    report = filled.verify()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "indexed columns" in report.problem


def test_forged_checkpoint_signature_is_caught(filled, intruder):
    intruder.run("UPDATE ledger_checkpoints SET root = :r WHERE size = 19", r="00" * 32)
    report = filled.verify()
    assert not report.ok and report.first_bad_seq == 19 and "signature" in report.problem


def test_projection_check_in_a_second_process_finds_the_same(filled, intruder):
    assert filled.verify(parallel=True).ok
    p = filled.pseudonym_of("user2@example.org")
    intruder.run("DELETE FROM ledger_states WHERE pseudonym = :p AND purpose = 'news'", p=p)
    report = filled.verify(parallel=True)
    assert not report.ok
    [diff] = report.projection_differences
    assert (diff["pseudonym"], diff["purpose"], diff["stored"]) == (p, "news", None)
    assert report.first_bad_seq == diff["expected"]["last_seq"] == 22


def test_edited_projection_is_reported_with_the_difference(filled, intruder):
    p = filled.pseudonym_of("user1@example.org")
    intruder.run("UPDATE ledger_states SET status = 'granted' WHERE pseudonym = :p", p=p)
    intruder.run("INSERT INTO ledger_states (pseudonym, channel, purpose, status, confirmed, last_seq, updated_at, "
                 "evidence_complete) VALUES (:p, 'sms', 'marketing', 'granted', false, 1, 'x', false)", p="f" * 64)
    report = filled.verify()
    assert not report.ok
    diffs = {(d["pseudonym"], d["channel"]) for d in report.projection_differences}
    assert diffs == {(p, "email"), ("f" * 64, "sms")}
    assert report.first_bad_seq == 1  # the smallest last_seq among the differing rows
