"""Migration 0006 moves the identity vault from two tables into one without losing a subject."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from auditor.migrations import alembic_config, upgrade
from tests.consent_ledger.conftest import grant


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_vault_rows_survive_the_move_both_ways(make_ledger, engine):
    ledger = make_ledger()
    subjects = ["anna@example.org", "+7 916 123-45-67", "boris@example.org"]
    ledger.append([grant(subjects[0]), grant(subjects[1], channel="sms"), grant(subjects[2])], "test")
    erased = ledger.pseudonym_of(subjects[2])
    ledger.erase(erased, "user:dpo@example.org")
    names = {ledger.pseudonym_of(subjects[0]): "anna@example.org",
             ledger.pseudonym_of(subjects[1], "sms"): "+79161234567"}

    command.downgrade(alembic_config(engine), "0002_ledger")
    assert {"ledger_subject_keys", "ledger_identities"} <= _tables(engine)
    assert "ledger_vault" not in _tables(engine)
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT pseudonym, wrapped_key FROM ledger_subject_keys")).all())
        sealed = dict(conn.execute(text("SELECT pseudonym, sealed FROM ledger_identities")).all())
    assert set(keys) == set(sealed) == set(names)  # the erased subject stays erased

    upgrade(engine)
    assert "ledger_vault" in _tables(engine)
    assert not {"ledger_subject_keys", "ledger_identities"} & _tables(engine)
    with engine.connect() as conn:
        moved = {p: (bytes(k), bytes(s)) for p, k, s in
                 conn.execute(text("SELECT pseudonym, wrapped_key, sealed FROM ledger_vault")).all()}
    assert moved == {p: (bytes(keys[p]), bytes(sealed[p])) for p in names}  # byte for byte
    reopened = make_ledger()
    assert {p: reopened.identity(p) for p in names} == names
    assert reopened.identity(erased) is None
    assert reopened.verify().ok
