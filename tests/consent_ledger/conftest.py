"""Fixtures of the ledger tests: a Ledger on a fresh migrated database, events to append."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.engine import Engine

from auditor.db import make_engine
from consent_ledger import EventIn, Evidence, Ledger
from consent_ledger.schema import drop_trigger_ddl

NOTICE = "a" * 64


def full_evidence(**kw) -> Evidence:
    """Evidence with everything CONSENT-EVIDENCE-WEAK asks for."""
    base = {"source_url": "https://shop.example/signup", "ip": "192.0.2.10", "user_agent": "Mozilla/5.0",
            "notice_version": "v3", "notice_sha256": NOTICE, "separate_document": True,
            "pre_ticked": False, "bundled": False}
    return Evidence(**{**base, **kw})


def grant(subject: str, **kw) -> EventIn:
    """A granted email/marketing event with full evidence."""
    fields = {"type": "granted", "subject": subject, "channel": "email", "purpose": "marketing",
              "jurisdiction": "RU", "legal_basis": "consent", "method": "web_form",
              "evidence": full_evidence(), "claimed_at": "2026-11-01T10:00:00Z"}
    fields.update(kw)
    return EventIn(**fields)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the fresh migrated database (SQLite and PostgreSQL)."""
    e = make_engine(db_url)
    yield e
    e.dispose()


@pytest.fixture
def make_ledger(engine: Engine) -> Callable[..., Ledger]:
    """Build a Ledger on ``engine`` with a fixed key pair per test."""
    keys = {"ledger": os.urandom(32), "signing": Ed25519PrivateKey.generate()}

    def build(**kw) -> Ledger:
        return Ledger(engine, keys["ledger"], keys["signing"], **kw)

    return build


@pytest.fixture
def ledger(make_ledger) -> Ledger:
    """A Ledger that checkpoints every 4 events."""
    return make_ledger(checkpoint_every_events=4)


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    """A ledger of 23 events: grants, confirmations, withdrawals, an SMS consent."""
    ledger.append([grant(f"user{i}@example.org") for i in range(15)], "test")
    ledger.append([EventIn(type="confirmed", subject=f"user{i}@example.org", channel="email",
                           purpose="marketing") for i in range(4)], "test")
    ledger.append([EventIn(type="withdrawn", subject="user1@example.org", channel="email",
                           purpose="marketing", method="one_click")], "test")
    ledger.append([grant("+7 916 123-45-67", channel="sms"), grant("user2@example.org", purpose="news"),
                   grant("user20@example.org")], "test")
    return ledger


class Intruder:
    """Direct SQL behind the ledger's back, with the append-only triggers dropped first."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.begin() as conn:
            for stmt in drop_trigger_ddl(engine.dialect.name):
                conn.exec_driver_sql(stmt)

    def run(self, sql: str, **params) -> None:
        """Execute one statement and commit."""
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def event(self, seq: int) -> str:
        """The stored canonical JSON of an event."""
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT event FROM ledger_events WHERE seq = :s"), {"s": seq}).scalar_one()


@pytest.fixture
def intruder(engine: Engine) -> Intruder:
    """Someone with write access to the database who drops the triggers first."""
    return Intruder(engine)
