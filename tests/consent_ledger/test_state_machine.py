"""The consent state machine (docs/ledger.md, "Consent state machine"): the fold and the ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from consent_ledger import EventIn, InvalidEvent
from consent_ledger.projection import LIVE, apply, effective, refusal
from tests.consent_ledger.conftest import grant

P = "a" * 64


def _t(n: int) -> str:
    return f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000000Z"


def _event(seq: int, kind: str, channel: str, purpose: str, claimed: int | None) -> dict:
    ev = {"type": kind, "channel": channel, "purpose": purpose, "pseudonym": P, "seq": seq,
          "recorded_at": _t(1000 + seq), "claimed_at": None if claimed is None else _t(claimed),
          "expires_at": None, "method": None, "legal_basis": "consent", "personal": None,
          "evidence": {"source_url": None, "ip": None, "user_agent": None, "notice_version": None,
                       "notice_sha256": None, "separate_document": None, "pre_ticked": None, "bundled": None}}
    if kind == "erased":
        ev.update(channel="*", purpose="*", claimed_at=None)
    return ev


def _fold(events: list[dict]) -> tuple[dict, list[dict]]:
    rows: dict = {}
    kept = []
    for ev in events:
        if refusal(rows, ev) is None:
            apply(rows, ev)
            kept.append(ev)
    return rows, kept


EVENTS = st.lists(st.tuples(st.sampled_from(["granted", "confirmed", "withdrawn", "withdrawn", "erased"]),
                            st.sampled_from(["email", "sms", "*"]), st.sampled_from(["marketing", "*"]),
                            st.one_of(st.none(), st.integers(0, 60))), max_size=14)


@settings(max_examples=400, deadline=None)
@given(EVENTS)
def test_no_sequence_ends_allowed_after_a_later_withdrawal_or_erasure(spec):
    events = []
    for seq, (kind, channel, purpose, claimed) in enumerate(spec, 1):
        if kind != "withdrawn" and kind != "erased":
            channel, purpose = (channel if channel != "*" else "email"), (purpose if purpose != "*" else "marketing")
        events.append(_event(seq, kind, channel, purpose, claimed))
    rows, kept = _fold(events)
    row = rows.get(("email", "marketing"))
    if row is None or row["status"] not in LIVE:
        return
    stops = [effective(e) for e in events if e["type"] in ("withdrawn", "erased")
             and e["channel"] in ("*", "email") and e["purpose"] in ("*", "marketing")]
    # Every withdrawal or erasure, recorded, ignored or refused, was claimed before the live grant.
    assert all(s < row["granted_at"] for s in stops), (row, stops)
    # ... and that grant is an accepted event of this key.
    assert any(e["type"] == "granted" and effective(e) == row["granted_at"] for e in kept)
    # The fold is a pure function of the recorded events: replaying them gives the same rows.
    again: dict = {}
    for e in kept:
        apply(again, e)
    assert again == rows


def test_confirmation_after_withdrawal_restores_nothing():
    rows: dict = {}
    apply(rows, _event(1, "granted", "email", "marketing", 1))
    apply(rows, _event(2, "withdrawn", "email", "marketing", 5))
    changed, why = apply(rows, _event(3, "confirmed", "email", "marketing", None))
    assert changed == [] and "restores nothing" in why
    assert rows[("email", "marketing")]["status"] == "withdrawn"


def test_confirmation_without_grant_creates_no_consent():
    rows: dict = {}
    changed, why = apply(rows, _event(1, "confirmed", "email", "marketing", 1))
    assert changed == [] and rows == {} and "no grant" in why


def test_late_withdrawal_claimed_before_a_newer_grant_leaves_it_standing():
    rows: dict = {}
    apply(rows, _event(1, "granted", "email", "marketing", 30))
    changed, why = apply(rows, _event(2, "withdrawn", "email", "marketing", 10))
    assert changed == [] and "stands" in why
    assert rows[("email", "marketing")]["status"] == "granted"


# --- through the ledger (SQLite and PostgreSQL) ------------------------------------------

def test_stale_confirmation_after_withdrawal_is_recorded_with_a_warning(ledger):
    ledger.append([grant("a@example.org")], "t")
    ledger.append([EventIn(type="withdrawn", subject="a@example.org", channel="email", purpose="marketing",
                           claimed_at="2026-11-02T10:00:00Z")], "t")
    [done] = ledger.append([EventIn(type="confirmed", subject="a@example.org", channel="email",
                                    purpose="marketing")], "t")
    assert done.seq == 3 and "restores nothing" in done.warning
    [state] = ledger.states_of(done.pseudonym)
    assert state.status == "withdrawn"
    assert ledger.verify().ok


def test_grant_claimed_before_the_withdrawal_is_ignored_one_claimed_after_restores(ledger):
    ledger.append([EventIn(type="withdrawn", subject="a@example.org", channel="email", purpose="marketing",
                           claimed_at="2026-03-01T00:00:00Z")], "t")
    [old] = ledger.append([grant("a@example.org", claimed_at="2025-01-01T00:00:00Z")], "t")
    assert "not after the withdrawal" in old.warning
    assert ledger.states_of(old.pseudonym)[0].status == "withdrawn"
    [new] = ledger.append([grant("a@example.org", claimed_at="2026-04-01T00:00:00Z")], "t")
    assert new.warning is None
    state = ledger.states_of(new.pseudonym)[0]
    assert state.status == "granted" and state.legal_basis == "consent"
    assert ledger.verify().ok


def test_withdrawal_from_everything_stops_every_channel_and_purpose(ledger):
    ledger.append([grant("+79161234567", channel="sms"), grant("+79161234567", channel="sms", purpose="news")], "t")
    ledger.append([EventIn(type="withdrawn", subject="+79161234567", channel="*", purpose="*",
                           claimed_at="2026-11-05T00:00:00Z")], "t")
    p = ledger.pseudonym_of("+79161234567", "sms")
    assert {(s.channel, s.purpose): s.status for s in ledger.states_of(p)} == {
        ("*", "*"): "withdrawn", ("sms", "marketing"): "withdrawn", ("sms", "news"): "withdrawn"}
    # A channel never granted before is covered too: an old grant for it is ignored.
    [late] = ledger.append([grant("+79161234567", channel="voice", claimed_at="2026-11-04T00:00:00Z")], "t")
    assert late.warning and ledger.current_states([p], "voice", "marketing")[p].status == "withdrawn"
    assert ledger.verify().ok


def test_wildcard_is_only_for_withdrawals(ledger):
    with pytest.raises(InvalidEvent, match="channel"):
        ledger.append([grant("a@example.org", channel="*")], "t")


def test_claimed_time_in_the_future_is_refused_beyond_five_minutes(make_ledger):
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    ledger = make_ledger(clock=lambda: now)
    with pytest.raises(InvalidEvent, match="claimed_at.*in the future"):
        ledger.append([grant("a@example.org", claimed_at="2030-01-01T00:00:00Z")], "t")
    [ok] = ledger.append([grant("a@example.org", claimed_at=now + timedelta(minutes=4))], "t")
    assert ok.seq == 1


def test_erasure_refuses_older_grants_and_a_later_grant_is_a_fresh_start(ledger):
    [first] = ledger.append([grant("a@example.org")], "t")
    ledger.erase("a@example.org", "dpo")
    with pytest.raises(InvalidEvent, match="erased"):
        ledger.append([grant("a@example.org", claimed_at="2026-11-01T10:00:00Z")], "t")
    assert ledger.identity(first.pseudonym) is None  # the refused row did not bring the address back
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    [fresh] = ledger.append([grant("a@example.org", claimed_at=later)], "t")
    assert "fresh start" in fresh.warning
    assert ledger.current_states([fresh.pseudonym], "email", "marketing")[fresh.pseudonym].status == "granted"
    assert ledger.identity(fresh.pseudonym) == "a@example.org"
    assert ledger.verify().ok


def test_a_refused_row_in_a_stream_is_reported_and_the_rest_kept(ledger):
    ledger.append([grant("a@example.org")], "t")
    ledger.erase("a@example.org", "dpo")
    batches = [[grant("b@example.org"), grant("a@example.org")]]
    [(done, errors)] = list(ledger.append_stream(batches, "import"))
    assert len(done) == 1 and errors == [{"index": 1, "field": "claimed_at", "message": errors[0]["message"]}]
    assert "erased" in errors[0]["message"]
    assert ledger.verify().ok


def test_migration_0007_rebuilds_the_projection_and_corrects_old_states(make_ledger, engine):
    from alembic import command
    from sqlalchemy import text

    from auditor.migrations import alembic_config, upgrade

    ledger = make_ledger()
    ledger.append([grant("a@example.org"), grant("b@example.org")], "t")
    ledger.append([EventIn(type="withdrawn", subject="a@example.org", channel="*", purpose="*",
                           claimed_at="2026-11-02T00:00:00Z")], "t")
    ledger.append([EventIn(type="confirmed", subject="a@example.org", channel="email", purpose="marketing")], "t")
    before = {p: ledger.states_of(p) for p in (ledger.pseudonym_of("a@example.org"),
                                               ledger.pseudonym_of("b@example.org"))}
    command.downgrade(alembic_config(engine), "0006_ledger_vault")
    with engine.begin() as conn:  # what the first wave's fold left: the stale confirmation won
        conn.execute(text("UPDATE ledger_states SET status = 'confirmed', confirmed = :t"), {"t": True})
    upgrade(engine)
    reopened = make_ledger()
    assert {p: reopened.states_of(p) for p in before} == before
    assert reopened.states_of(ledger.pseudonym_of("a@example.org"))[1].status == "withdrawn"
    assert reopened.verify().ok


def test_an_unsubscribe_right_after_a_grant_claimed_within_the_skew_still_withdraws(make_ledger):
    now = [datetime(2026, 11, 30, 12, 0, tzinfo=UTC)]
    ledger = make_ledger(clock=lambda: now[0])
    [g] = ledger.append([grant("a@example.org", claimed_at=now[0] + timedelta(minutes=4))], "t")
    now[0] += timedelta(seconds=30)
    [w] = ledger.append([EventIn(type="withdrawn", pseudonym=g.pseudonym, channel="email", purpose="marketing")],
                        "unsubscribe:campaign:1")
    assert w.warning is None
    assert ledger.current_states([g.pseudonym], "email", "marketing")[g.pseudonym].status == "withdrawn"
    assert ledger.verify().ok


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=EVENTS)
@example(spec=[("granted", "email", "marketing", 5), ("withdrawn", "*", "*", 30), ("granted", "email", "marketing", 10),
               ("confirmed", "email", "marketing", None)])
def test_the_ledger_keeps_the_property_and_verify_rebuilds_its_states(ledger, spec):
    p = ledger.pseudonym_of(f"h{uuid.uuid4().hex[:12]}@example.org")
    for kind, channel, purpose, claimed in spec:
        when = None if claimed is None else f"2026-01-01T00:{claimed // 60:02d}:{claimed % 60:02d}Z"
        if kind == "erased":
            try:
                ledger.erase(p, "dpo")
            except LookupError:  # nothing recorded yet
                pass
            continue
        if kind != "withdrawn":
            channel, purpose = "email", "marketing"
        try:
            ledger.append([EventIn(type=kind, pseudonym=p, channel=channel, purpose=purpose, claimed_at=when)], "t")
        except InvalidEvent as exc:  # only what an erasure refuses
            assert "erased" in str(exc.errors[0]["message"])
    history = ledger.history(p, as_hashed=True)
    state = ledger.current_states([p], "email", "marketing").get(p)
    if state is not None and state.status in LIVE:
        stops = [effective(e) for e in history if e["type"] in ("withdrawn", "erased")
                 and e["channel"] in ("*", "email") and e["purpose"] in ("*", "marketing")]
        granted = state.granted_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert all(s < granted for s in stops)
    report = ledger.verify()
    assert report.ok, report.to_dict()


def test_rebuild_streams_and_writes_in_batches(ledger, engine):
    from consent_ledger.projection import rebuild

    ledger.append([grant(f"r{i}@example.org") for i in range(5100)], "t")
    with engine.begin() as conn:
        assert rebuild(conn) == 5100
    assert ledger.verify().ok


def test_v1_events_keep_verifying_and_read_as_erased_after_an_erasure(ledger):
    """A first-wave event (v1: IP, user agent and reason in the clear) next to v2 events."""
    import json as _json

    from consent_ledger.events import event_body
    from consent_ledger.ledger import _dumps

    body = event_body(grant("old@example.org", reason="signed at the till"))
    del body["personal"]
    body["pseudonym"] = p = ledger.pseudonym_of("old@example.org")
    before = {k: v for k, v in body.items() if k != "type"}
    before["actor"] = "first-wave"
    parts = (_dumps(before)[:-1] + ',"recorded_at":"', "," + _dumps({"type": "granted", "v": 1})[1:])
    with ledger._locked() as (conn, frontier, now):
        ledger._append_locked(conn, frontier, now, [body], [parts])
    ledger._head = None
    ledger.append([EventIn(type="withdrawn", pseudonym=p, channel="email", purpose="marketing")], "t")
    [v1, v2] = ledger.history(p, as_hashed=True)
    assert v1["v"] == 1 and "personal" not in v1 and v1["evidence"]["ip"] == "192.0.2.10"
    assert v2["v"] == 2
    assert ledger.history(p)[0]["evidence"]["ip"] == "192.0.2.10"  # readable until the erasure
    assert ledger.verify().ok
    ledger.erase(p, "dpo")
    read = ledger.history(p)
    assert read[0]["evidence"]["ip"] == "erased" and read[0]["reason"] == "erased"
    assert "192.0.2.10" not in _json.dumps(read) and "till" not in _json.dumps(read)
    assert ledger.verify().ok


def test_evidence_complete_agrees_with_evidence_gaps_for_every_shape():
    """The fast check used by every append and by verify says what the list of gaps says."""
    from itertools import product

    from consent_ledger.projection import evidence_complete, evidence_gaps

    names = ("source_url", "ip", "sealed_ip", "claimed_at", "notice_version", "notice_sha256")
    for present in product((False, True, None), repeat=len(names)):  # None: the key is absent
        have = dict(zip(names, present, strict=True))
        ev = {k: ("x" if v else "") for k, v in have.items()
              if k in ("source_url", "ip", "notice_version", "notice_sha256") and v is not None}
        event = {"evidence": ev, "personal": {"fields": ["evidence.ip"]} if have["sealed_ip"] else None}
        if have["claimed_at"] is not None:
            event["claimed_at"] = "2026-11-01T10:00:00Z" if have["claimed_at"] else None
        assert evidence_complete(event) is (not evidence_gaps(event)), event
    assert evidence_complete({"evidence": None}) is False
