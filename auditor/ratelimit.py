"""Sliding-window limits on failed logins, per account and per client address.

Kept in the process's memory: each WSGI worker counts on its own, so with N workers an attacker
gets at most N times the limit, still far below what guessing an Argon2id hash would need.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class SlidingWindow:
    """At most ``limit`` events per key within ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self._events[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again (0 if it may now)."""
        now = time.monotonic()
        with self._lock:
            q = self._trim(key, now)
            if len(q) < self.limit:
                return 0
            return max(1, int(q[0] + self.window - now) + 1)

    def hit(self, key: str) -> None:
        """Count one event for ``key``."""
        now = time.monotonic()
        with self._lock:
            self._trim(key, now).append(now)
            if len(self._events) > 100_000:  # bound memory under a spray of keys
                for k in [k for k, q in self._events.items() if not q or q[-1] <= now - self.window]:
                    del self._events[k]

    def reset(self, key: str) -> None:
        """Forget ``key`` (after a successful login)."""
        with self._lock:
            self._events.pop(key, None)


# Failed logins: 5 per account and 20 per client address in 15 minutes.
LOGIN_PER_ACCOUNT = SlidingWindow(5, 15 * 60)
LOGIN_PER_ADDRESS = SlidingWindow(20, 15 * 60)


def login_retry_after(email: str, address: str | None) -> int:
    """Seconds the caller must wait before another login attempt, 0 if none."""
    return max(LOGIN_PER_ACCOUNT.retry_after(email.lower()), LOGIN_PER_ADDRESS.retry_after(address or "-"))


def login_failed(email: str, address: str | None) -> None:
    """Count a failed login."""
    LOGIN_PER_ACCOUNT.hit(email.lower())
    LOGIN_PER_ADDRESS.hit(address or "-")


def login_succeeded(email: str) -> None:
    """A correct password clears the account's count (not the address's)."""
    LOGIN_PER_ACCOUNT.reset(email.lower())
