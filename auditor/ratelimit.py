"""Sliding-window limits on failed logins, per account and per client address.

The failures live in the database (table ``login_failures``), so every WSGI worker and every
app process counts the same attempts, and a restart forgives nothing. Keys are stored as
SHA-256 digests: the table holds no address and no email.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from auditor.accounts.models import LoginFailure


class SlidingWindow:
    """At most ``limit`` events per key within ``window`` seconds; ``kind`` keeps windows apart."""

    def __init__(self, kind: str, limit: int, window: float) -> None:
        self.kind, self.limit, self.window = kind, limit, window

    def _key(self, key: str) -> str:
        return hashlib.sha256(f"{self.kind}\0{key}".encode()).hexdigest()

    def retry_after(self, session: Session, key: str) -> int:
        """Seconds until ``key`` may try again (0 if it may now)."""
        now = time.time()
        recent = (select(LoginFailure.at).where(LoginFailure.key_hash == self._key(key),
                                                LoginFailure.at > now - self.window)
                  .order_by(LoginFailure.at.desc()).limit(self.limit))
        times = session.scalars(recent).all()
        if len(times) < self.limit:
            return 0
        # The oldest of the last ``limit`` failures must leave the window first.
        return max(1, int(times[-1] + self.window - now) + 1)

    def hit(self, session: Session, key: str) -> None:
        """Count one event for ``key``, and forget every key's events older than ``RETAIN``."""
        now = time.time()
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - RETAIN))
        session.add(LoginFailure(key_hash=self._key(key), at=now))

    def reset(self, session: Session, key: str) -> None:
        """Forget ``key`` (after a successful login)."""
        session.execute(delete(LoginFailure).where(LoginFailure.key_hash == self._key(key)))


# Failed logins older than this are deleted as new ones arrive (at least the longest window).
RETAIN = 24 * 3600

# Failed logins: 5 per account and 20 per client address in 15 minutes.
LOGIN_PER_ACCOUNT = SlidingWindow("account", 5, 15 * 60)
LOGIN_PER_ADDRESS = SlidingWindow("address", 20, 15 * 60)


def login_retry_after(session: Session, email: str, address: str | None) -> int:
    """Seconds the caller must wait before another login attempt, 0 if none."""
    return max(LOGIN_PER_ACCOUNT.retry_after(session, email.lower()),
               LOGIN_PER_ADDRESS.retry_after(session, address or "-"))


def login_failed(session: Session, email: str, address: str | None) -> None:
    """Count a failed login (the caller commits)."""
    LOGIN_PER_ACCOUNT.hit(session, email.lower())
    LOGIN_PER_ADDRESS.hit(session, address or "-")


def login_succeeded(session: Session, email: str) -> None:
    """A correct password clears the account's count (not the address's; the caller commits)."""
    LOGIN_PER_ACCOUNT.reset(session, email.lower())
