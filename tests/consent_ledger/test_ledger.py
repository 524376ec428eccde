"""Appending, the projection, checkpoints, erasure and the append-only triggers (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from consent_ledger import EventIn, InvalidEvent, InvalidIdentifier, verify_inclusion
from consent_ledger.merkle import leaf_hash
from tests.consent_ledger.conftest import grant


def test_append_returns_gapless_seqs_and_leaf_hashes_of_the_stored_events(ledger):
    done = ledger.append([grant("a@example.org"), grant("b@example.org")], "key:1:crm")
    done += ledger.append([grant("c@example.org")], "key:1:crm")
    assert [d.seq for d in done] == [1, 2, 3]
    assert ledger.size() == 3
    history = ledger.history(done[2].pseudonym, as_hashed=True)
    assert history[0]["seq"] == 3 and history[0]["actor"] == "key:1:crm"
    from consent_ledger.canonical import canonical_json

    assert leaf_hash(canonical_json(history[0])).hex() == done[2].leaf_hash


def test_event_holds_every_field_and_no_address(ledger):
    [d] = ledger.append([grant("Person@Example.org", controller="OOO Shop", expires_at="2027-01-01T00:00:00+03:00")],
                        "user:admin@x.org")
    [event] = ledger.history(d.pseudonym)
    assert set(event) == {"v", "seq", "type", "pseudonym", "channel", "purpose", "controller", "jurisdiction",
                          "legal_basis", "method", "evidence", "claimed_at", "recorded_at", "expires_at",
                          "actor", "reason", "personal"}
    assert event["expires_at"] == "2026-12-31T21:00:00.000000Z"
    assert event["evidence"]["notice_version"] == "v3" and event["evidence"]["separate_document"] is True
    assert "person@example.org" not in str(event).lower()
    assert d.pseudonym == ledger.pseudonym_of("person@example.org")


def test_projection_follows_grant_confirm_withdraw(ledger):
    p = ledger.pseudonym_of("x@example.org")
    ledger.append([grant("x@example.org")], "t")
    s = ledger.current_states([p], "email", "marketing")[p]
    assert (s.status, s.confirmed, s.evidence_complete, s.method) == ("granted", False, True, "web_form")
    assert s.granted_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
    ledger.append([EventIn(type="confirmed", pseudonym=p, channel="email", purpose="marketing")], "t")
    assert ledger.current_states([p], "email", "marketing")[p].confirmed is True
    [w] = ledger.append([EventIn(type="withdrawn", subject="X@example.org", channel="email",
                                 purpose="marketing")], "t")
    s = ledger.current_states([p], "email", "marketing")[p]
    assert (s.status, s.confirmed, s.last_seq) == ("withdrawn", False, w.seq)
    assert ledger.current_states([p], "sms", "marketing") == {}
    assert ledger.current_states([p, "0" * 64], "email", "marketing").keys() == {p}


def test_weak_evidence_is_flagged(ledger):
    p = ledger.pseudonym_of("w@example.org")
    ledger.append([EventIn(type="granted", subject="w@example.org", channel="email", purpose="marketing")], "t")
    assert ledger.current_states([p], "email", "marketing")[p].evidence_complete is False


def test_bad_items_refuse_the_whole_batch_and_are_named_by_index(ledger):
    with pytest.raises(InvalidEvent) as info:
        ledger.append([grant("ok@example.org"), grant("not-an-address"),
                       grant("ok2@example.org", channel="fax"),
                       grant("ok3@example.org", claimed_at="2026-01-01T00:00:00")], "t")
    assert [(e["index"], e["field"]) for e in info.value.errors] == [
        (1, "subject"), (2, "channel"), (3, "claimed_at")]
    assert ledger.size() == 0


def test_pseudonym_of_refuses_what_cannot_be_normalised(ledger):
    with pytest.raises(InvalidIdentifier):
        ledger.pseudonym_of("nobody", "email")
    assert ledger.pseudonym_of("8 916 123 45 67", "sms") == ledger.pseudonym_of("+79161234567", "sms")


def test_pseudonyms_of_agrees_with_pseudonym_of_and_says_why_not(ledger):
    got = ledger.pseudonyms_of(["A@Example.org", "a@example.org", "nobody", "A@Example.org", ""], "email")
    assert list(got) == ["A@Example.org", "a@example.org", "nobody", ""]  # each distinct input once
    assert got["A@Example.org"] == got["a@example.org"] == ledger.pseudonym_of("a@example.org")
    assert isinstance(got["nobody"], InvalidIdentifier) and "not a valid email address" in str(got["nobody"])
    assert isinstance(got[""], InvalidIdentifier)
    phones = ledger.pseudonyms_of(["8 916 123 45 67", "12"], "sms")
    assert phones["8 916 123 45 67"] == ledger.pseudonym_of("+79161234567", "sms")
    assert isinstance(phones["12"], InvalidIdentifier)


def test_normalise_and_pseudonymise_keeps_the_normalised_form_beside_the_pseudonym(ledger):
    raws = [" A.B+tag@Пример.РФ ", "a.b+tag@xn--e1afmkfd.xn--p1ai", "nobody", " A.B+tag@Пример.РФ "]
    got = ledger.normalise_and_pseudonymise(raws, "email")
    assert list(got) == raws[:3]
    assert got[raws[0]] == got[raws[1]] == ("a.b+tag@xn--e1afmkfd.xn--p1ai", ledger.pseudonyms_of(raws)[raws[0]])
    assert isinstance(got["nobody"], InvalidIdentifier) and str(got["nobody"]) == str(ledger.pseudonyms_of(["nobody"])["nobody"])
    assert ledger.normalise_and_pseudonymise(["8 916 123 45 67"], "sms")["8 916 123 45 67"] == (
        "+79161234567", ledger.pseudonym_of("+79161234567", "sms"))


def test_bulk_lookup_builds_the_same_states_as_the_single_subject_read(ledger):
    """current_states (the gate's chunked IN read) and states_of (one subject's rows) read the
    projection through different queries: every shape of state must come out identical."""
    who = [f"s{i}@example.org" for i in range(5)]
    ledger.append([grant(who[0]), grant(who[1], expires_at="2027-01-01T00:00:00Z"),
                   EventIn(type="granted", subject=who[2], channel="email", purpose="marketing"),
                   grant(who[3]), grant("+79161234567", channel="sms")], "t")
    ledger.append([EventIn(type="confirmed", subject=who[1], channel="email", purpose="marketing"),
                   EventIn(type="withdrawn", subject=who[3], channel="email", purpose="marketing")], "t")
    ps = [ledger.pseudonym_of(w) for w in who]
    bulk = ledger.current_states(ps, "email", "marketing")
    assert len(bulk) == 4  # the fifth has no event at all
    for p, state in bulk.items():
        [single] = [s for s in ledger.states_of(p) if (s.channel, s.purpose) == ("email", "marketing")]
        assert state == single
        assert type(state.confirmed) is bool and type(state.evidence_complete) is bool
    assert bulk[ps[1]].expires_at == datetime(2027, 1, 1, tzinfo=UTC) and bulk[ps[1]].confirmed is True
    assert bulk[ps[3]].status == "withdrawn" and bulk[ps[2]].evidence_complete is False


def test_checkpoints_are_taken_every_n_events_and_on_demand(ledger, filled):
    cps = ledger.checkpoints()
    assert [c["size"] for c in cps] == [15, 19, 23]
    cp = ledger.checkpoint()
    assert cp["size"] == 23 and ledger.latest_checkpoint() == cp


def test_checkpoints_are_taken_after_t_seconds(make_ledger):
    now = [datetime(2026, 11, 22, 10, tzinfo=UTC)]
    ledger = make_ledger(checkpoint_every_events=1000, checkpoint_every_seconds=60, clock=lambda: now[0])
    ledger.append([grant("t1@example.org")], "t")
    ledger.append([grant("t2@example.org")], "t")
    assert [c["size"] for c in ledger.checkpoints()] == [1]
    now[0] = datetime(2026, 11, 22, 10, 1, 1, tzinfo=UTC)
    ledger.append([grant("t3@example.org")], "t")
    assert [c["size"] for c in ledger.checkpoints()] == [1, 3]


def test_inclusion_proof_against_latest_checkpoint_verifies(filled):
    filled.append([grant("late@example.org")], "t")  # not yet in any checkpoint
    doc = filled.inclusion_proof(24)
    assert doc["tree_size"] == 24 and doc["event"]["seq"] == 24
    verify_inclusion(doc, filled.public_key_pem)
    old = filled.inclusion_proof(2, 9)
    verify_inclusion(old, filled.public_key_pem)


def test_erasure_keeps_the_ledger_verifiable_and_the_address_unrecoverable(filled, engine):
    p = filled.pseudonym_of("user3@example.org")
    assert filled.identity(p) == "user3@example.org"
    before = filled.consistency_proof(1, filled.size())
    done = filled.erase("User3@example.org", "user:dpo@x.org", "GDPR art. 17 request")
    assert filled.identity(p) is None
    states = filled.states_of(p)
    assert states and all(s.status == "erased" for s in states)
    assert filled.history(p)[-1]["type"] == "erased" and filled.history(p)[-1]["seq"] == done.seq
    report = filled.verify()
    assert report.ok, report
    assert filled.consistency_proof(1, filled.size())["first_root"] == before["first_root"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ledger_vault WHERE pseudonym = :p"),
                            {"p": p}).scalar() == 0
        dump = " ".join(str(r) for t in ("ledger_events", "ledger_states", "ledger_checkpoints",
                                         "ledger_vault")
                        for r in conn.execute(text(f"SELECT * FROM {t}")))  # noqa: S608
    assert "user3@example.org" not in dump and "user4@example.org" not in dump
    assert filled.identity(filled.pseudonym_of("user4@example.org")) == "user4@example.org"


def test_erasing_an_unknown_subject_is_refused(ledger):
    with pytest.raises(LookupError):
        ledger.erase("nobody@example.org", "t")


@pytest.mark.parametrize("sql", [
    "UPDATE ledger_events SET type = 'withdrawn' WHERE seq = 1",
    "DELETE FROM ledger_events WHERE seq = 2",
    "UPDATE ledger_checkpoints SET size = 1",
    "DELETE FROM ledger_checkpoints",
])
def test_the_database_refuses_update_and_delete_on_ledger_tables(filled, engine, sql):
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql))
    assert filled.verify().ok


def test_verify_passes_on_an_intact_ledger(filled):
    report = filled.verify()
    assert (report.ok, report.size, report.first_bad_seq) == (True, 23, None)
    assert report.checkpoints_checked >= 3


def test_stored_events_are_exactly_their_rfc8785_canonical_form(filled, engine):
    """The lock splices seq and recorded_at into pre-encoded JSON; the result must still be JCS."""
    import json

    import rfc8785

    filled.append([grant("ünïcode@example.org", controller="ООО «Магазин» \\ \"quoted\"",
                         reason="line\u2028sep \U0001f600")], "actor «ключ»")
    filled.erase("user5@example.org", "dpo", "запрос субъекта")
    with engine.connect() as conn:
        texts = conn.execute(text("SELECT event FROM ledger_events ORDER BY seq")).scalars().all()
    assert len(texts) == 25
    for t in texts:
        assert t.encode() == rfc8785.dumps(json.loads(t))



def test_a_large_batch_updates_projection_and_vault_like_small_ones(ledger, engine):
    """A batch of at least COPY_MIN_ROWS rows goes in with COPY on PostgreSQL (the projection's
    upsert and the vault's insert-or-ignore through a staging table). Subjects already in the
    projection and the vault, repeated subjects inside the batch, an ignored grant and a withdrawal
    of everything must leave the rows the state machine gives (``verify`` rebuilds and compares
    them) and keep each known subject's vault row."""
    from consent_ledger.db import COPY_MIN_ROWS

    who = [f"big{i}@example.org" for i in range(COPY_MIN_ROWS + 30)]
    ledger.append([grant(w, claimed_at="2026-10-01T10:00:00Z") for w in who[:40]], "t")
    with engine.connect() as conn:
        vault_before = dict(conn.execute(text("SELECT pseudonym, wrapped_key FROM ledger_vault")).all())
    batch = ([grant(w, claimed_at="2026-10-20T10:00:00Z") for w in who]  # 40 re-grants, the rest new
             + [EventIn(type="confirmed", subject=w, channel="email", purpose="marketing") for w in who[::3]]
             + [grant(who[1], claimed_at="2026-09-01T10:00:00Z"),  # older than the current grant
                EventIn(type="withdrawn", subject=who[2], channel="*", purpose="*",
                        claimed_at="2026-10-25T10:00:00Z", reason="objection")])
    assert len(batch) >= COPY_MIN_ROWS
    done = ledger.append(batch, "t")
    assert [a.seq for a in done] == list(range(41, 41 + len(batch)))
    assert done[-2].warning.startswith("ignored") and done[-1].warning is None
    assert ledger.verify().ok  # the projection equals the fold of the events
    states = ledger.current_states([ledger.pseudonym_of(w) for w in who], "email", "marketing")
    assert len(states) == len(who)
    assert states[ledger.pseudonym_of(who[3])].status == "confirmed"
    assert states[ledger.pseudonym_of(who[4])].status == "granted"
    assert states[ledger.pseudonym_of(who[2])].status == "withdrawn"
    assert states[ledger.pseudonym_of(who[1])].granted_at == datetime(2026, 10, 20, 10, tzinfo=UTC)
    with engine.connect() as conn:
        vault_after = dict(conn.execute(text("SELECT pseudonym, wrapped_key FROM ledger_vault")).all())
    assert len(vault_after) == len(who)
    assert all(bytes(vault_after[p]) == bytes(k) for p, k in vault_before.items())  # insert-or-ignore kept them
    assert ledger.identity(ledger.pseudonym_of(who[0])) == who[0]
    assert ledger.history(ledger.pseudonym_of(who[2]))[-1]["reason"] == "objection"  # sealed, opens


def test_select_in_finds_every_key_of_any_shape_in_one_or_many_statements(engine):
    """The keyed lookup behind the gate, the vault and the projection: more keys than one chunk,
    keys with a comma (PostgreSQL then sends an array, not one comma-joined text) and the
    empty string, with and without leading parameters."""
    from consent_ledger.db import CHUNK, select_in

    keys = [f"k{i:06d}" for i in range(CHUNK * 2 + 7)] + ["a,b", "", "x"]
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t_select_in (k VARCHAR(20) PRIMARY KEY, tag VARCHAR(5) NOT NULL)")
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conn.exec_driver_sql(f"INSERT INTO t_select_in VALUES ({mark}, {mark})",  # noqa: S608 - a mark
                             [(k, "odd" if i % 2 else "even") for i, k in enumerate(keys)])
    wanted = keys[::3] + ["missing", "a"]
    with engine.connect() as conn:
        got = select_in(conn, "SELECT k FROM t_select_in WHERE k IN", wanted)
        assert sorted(r[0] for r in got) == sorted(k for k in keys[::3])
        for case in (["a,b", "x"], [""], ["", "x"], ["x"]):
            assert sorted(r[0] for r in select_in(conn, "SELECT k FROM t_select_in WHERE k IN", case)) == sorted(case)
        odd = select_in(conn, "SELECT k FROM t_select_in WHERE tag = ? AND k IN", keys, ("odd",))
        assert sorted(r[0] for r in odd) == sorted(k for i, k in enumerate(keys) if i % 2)
        assert select_in(conn, "SELECT k FROM t_select_in WHERE k IN", []) == []
