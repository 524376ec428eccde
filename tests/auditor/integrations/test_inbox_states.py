"""The inbox state machine of docs/integrations.md, walked by a property test against the real store."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.integrations import services as svc
from auditor.integrations.models import InboxEntry
from tests.auditor.integrations.conftest import add_integration

OPS = ("accept_again", "claim", "expire_lease", "process", "process_failing")
_bodies = itertools.count()


@pytest.fixture
def inbox_app(app):
    """An app with one SendPulse integration; returns (app, integration id)."""
    add_integration(app, "sp", "sendpulse")
    with app.extensions["auditor"].sessions() as s:
        return app, s.scalar(sa.select(sa.text("id")).select_from(sa.text("integrations")))


class Model:
    """The table of docs/integrations.md, as data: what each event does to each state."""

    def __init__(self) -> None:
        self.state, self.attempts, self.expired = "received", 0, False

    def claimable(self) -> bool:
        return self.state == "received" or (self.state == "processing" and self.expired)

    def apply(self, op: str) -> None:
        if op == "expire_lease":
            self.expired = self.state == "processing"
        elif op == "claim" and self.claimable():
            self.state, self.attempts, self.expired = "processing", self.attempts + 1, False
        elif op == "process" and self.claimable():
            self.state, self.attempts, self.expired = "processed", self.attempts + 1, False
        elif op == "process_failing" and self.claimable():
            self.attempts += 1
            self.state, self.expired = ("failed" if self.attempts >= svc.MAX_ATTEMPTS else "received"), False


def _row(app, inbox_id: int) -> InboxEntry:
    with app.extensions["auditor"].sessions() as s:
        return s.get(InboxEntry, inbox_id)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(OPS), max_size=14))
def test_inbox_follows_the_state_table(inbox_app, monkeypatch, ops):
    app, iid = inbox_app
    n = next(_bodies)
    body = json.dumps([{"timestamp": str(1795424400 + n), "event": "delivered", "task_id": str(n),
                        "email": f"p{n}@example.org"}]).encode()
    first = svc.accept(app, iid, body, 1)
    assert not first.duplicate
    model = Model()
    real_ingest = svc.ingest

    def failing(*a, **kw):
        raise RuntimeError("database went away")

    for op in ops:
        if op == "accept_again":
            again = svc.accept(app, iid, body, 1)
            assert again.duplicate and again.inbox_id == first.inbox_id
        elif op == "claim":
            assert svc._claim(app, first.inbox_id, datetime.now(UTC)) == model.claimable()
        elif op == "expire_lease":
            with app.extensions["auditor"].engine.begin() as c:
                c.execute(sa.update(InboxEntry.__table__).where(InboxEntry.__table__.c.id == first.inbox_id)
                          .values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
        elif op == "process":
            svc.process_entry(app, first.inbox_id)
        else:
            monkeypatch.setattr(svc, "ingest", failing)
            try:
                svc.process_entry(app, first.inbox_id)
            finally:
                monkeypatch.setattr(svc, "ingest", real_ingest)
        model.apply(op)
        row = _row(app, first.inbox_id)
        assert (row.state, row.attempts) == (model.state, model.attempts), op
        assert (row.body is None) == (row.state == "processed")
    with app.extensions["auditor"].engine.connect() as c:
        stored = c.execute(sa.text("SELECT count(*) FROM delivery_events WHERE esp_campaign = :n"),
                           {"n": str(n)}).scalar()
    assert stored == (1 if model.state == "processed" else 0)


def test_two_claims_of_one_entry_one_wins(inbox_app):
    app, iid = inbox_app
    acc = svc.accept(app, iid, b'[{"timestamp":"1","event":"open","task_id":"1","email":"a@example.org"}]', 1)
    now = datetime.now(UTC)
    assert [svc._claim(app, acc.inbox_id, now) for _ in range(2)] == [True, False]
    assert svc.pending(app) == []  # held under a live lease
    assert svc.process_entry(app, acc.inbox_id).state == "processing"  # the holder is not overtaken
