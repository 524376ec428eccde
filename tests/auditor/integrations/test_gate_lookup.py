"""The gate's hard-bounce lookup: both strategies (scan of few bounces, keyed IN of many) agree."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa

from auditor.db import make_engine
from auditor.integrations.models import BounceSuppression
from auditor.integrations.services import hard_bounced


def _key(i: int) -> str:
    return hashlib.sha256(f"p{i}".encode()).hexdigest()


def test_few_and_many_bounces_give_the_same_answer(db_url):
    engine = make_engine(db_url)
    at = datetime(2026, 11, 23, 9, 2, tzinfo=UTC)
    with engine.begin() as c:
        c.execute(sa.insert(BounceSuppression.__table__), [
            {"pseudonym": _key(i), "channel": "email", "recipient_sha256": "0" * 64, "provider_event_id": f"e{i}",
             "reason": "550 5.1.1 no such user" if i % 2 else None, "bounced_at": at, "created_at": at}
            for i in range(0, 40, 4)])  # 10 bounces: p0, p4, ... p36
        c.execute(sa.insert(BounceSuppression.__table__), [
            {"pseudonym": _key(1), "channel": "sms", "recipient_sha256": "0" * 64, "provider_event_id": "s",
             "reason": None, "bounced_at": at, "created_at": at}])
    with engine.connect() as conn:
        many = [_key(i) for i in range(100)]  # 10 * 4 < 100: the scan
        few = [_key(i) for i in range(0, 12)]  # 10 * 4 >= 12: the keyed lookup
        scanned, keyed = hard_bounced(conn, many, "email"), hard_bounced(conn, few, "email")
        assert set(scanned) == {_key(i) for i in range(0, 40, 4)}
        assert set(keyed) == {_key(0), _key(4), _key(8)}
        assert {k: scanned[k] for k in keyed} == keyed
        assert keyed[_key(0)] == "the address hard-bounced at 2026-11-23 09:02:00"
        assert hard_bounced(conn, many, "sms") == {_key(1): "the address hard-bounced at 2026-11-23 09:02:00"}
        assert hard_bounced(conn, many, "push") == {} and hard_bounced(conn, [], "email") == {}
    engine.dispose()
