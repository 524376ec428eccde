"""Request rate limits (Flask-Limiter) and sliding-window limits on failed logins.

Request limits: per API key and per client address on ``/api/`` (gate checks have their own, higher
ones), per address on ``/u/`` (public unsubscribe), and on ``/hooks/`` (provider webhooks) per
integration for a known URL token and per address for an unknown one; or on any view marked with
``limited(area)``.
Counters live in Redis when one is configured (shared by every worker and process), in memory
otherwise; a breach is a 429 problem document with ``Retry-After`` (RFC 9110, 10.2.3). The one
exception is the per-integration webhook limit: counted in each process's memory (``LocalWindow``),
so that accepting a webhook costs no round trip to Redis (docs/integrations.md, "Request limits").

Failed logins: the failures live in the database (table ``login_failures``), so every WSGI worker and every
app process counts the same attempts, and a restart forgives nothing. Keys are stored as
SHA-256 digests: the table holds no address and no email.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from auditor.accounts.models import LoginFailure

if TYPE_CHECKING:
    from flask_limiter import RequestLimit

    from auditor.config import Settings

log = logging.getLogger("auditor.ratelimit")

# Path prefixes and the limited area they belong to (a view marked with ``limited`` wins).
PREFIXES = (("/api/v1/gate/check", "gate"), ("/api/", "api"), ("/u/", "public"), ("/hooks/", "hooks"))


def limited(area: str) -> Callable:
    """Mark a view as part of a limited area (``"public"``, ``"hooks"`` or ``"gate"``), wherever it is mounted."""

    def deco(fn: Callable) -> Callable:
        fn.ratelimit_area = area  # type: ignore[attr-defined]
        return fn

    return deco


def request_area() -> str | None:
    """The limited area of the current request, or None."""
    view = current_app.view_functions.get(request.endpoint or "")
    area = getattr(view, "ratelimit_area", None)
    if area:
        return area
    return next((a for prefix, a in PREFIXES if request.path.startswith(prefix)), None)


def client_address() -> str:
    """The client's address (after ProxyFix when proxies are trusted)."""
    return request.remote_addr or "-"


def api_key_id() -> str:
    """A digest of the bearer credential: the limit is per key, and Redis never holds the key."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def hook_integration() -> Any:
    """The integration whose URL token the current webhook request carries, else None (the
    receivers register the lookup; it is cached, and done once per request)."""
    lookup = current_app.extensions.get("auditor_hook_target")
    return lookup() if lookup is not None else None


def storage_url(settings: Settings) -> str:
    """``AUDITOR_RATELIMIT_STORAGE_URL``, else a Redis broker's URL, else process memory."""
    if settings.ratelimit_storage_url:
        return settings.ratelimit_storage_url
    if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")):
        return settings.broker_url
    return "memory://"


def _breach(who: str) -> Callable[[RequestLimit], Any]:
    def breached(limit: RequestLimit) -> Any:
        from auditor.errors import problem

        wait = max(1, int(limit.reset_at - time.time()))
        return problem(429, "Too Many Requests", f"more than {limit.limit} from this {who}; retry in {wait} seconds",
                       headers={"Retry-After": str(wait)})

    return breached


_breached = _breach("client")


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the request limits to ``app`` (one limiter per app: tests build many apps)."""
    from flask_limiter import ApplicationLimit, Limiter

    def outside(area: str) -> Callable[[], bool]:
        return lambda: request_area() != area

    def no_key(area: str) -> Callable[[], bool]:
        return lambda: request_area() != area or not request.headers.get("Authorization")

    limits = [
        ApplicationLimit(settings.ratelimit_api_key, key_function=api_key_id, scope="api-key",
                         exempt_when=no_key("api"), on_breach=_breach("API key")),
        ApplicationLimit(settings.ratelimit_api_address, scope="api-address", exempt_when=outside("api"),
                         on_breach=_breached),
        # The gate is called for every send (a million times a day by one integration): its own limits.
        ApplicationLimit(settings.ratelimit_gate, key_function=api_key_id, scope="gate-key",
                         exempt_when=no_key("gate"), on_breach=_breach("API key")),
        ApplicationLimit(settings.ratelimit_gate, scope="gate-address", exempt_when=outside("gate"),
                         on_breach=_breached),
        ApplicationLimit(settings.ratelimit_public, scope="public", exempt_when=outside("public"),
                         on_breach=_breached),
        # Webhooks: an ESP posts from a few shared addresses, fast; only requests with an unknown
        # token are counted per address (token guessing). A known URL token is counted per
        # integration by the receiver, in this process (``hook_limit_refusal``), and skips these.
        ApplicationLimit(settings.ratelimit_hooks_address, scope="hooks-address", exempt_when=outside("hooks"),
                         on_breach=_breached),
    ]
    url = storage_url(settings)
    # Redis down: count in this process's memory until it answers again, never fail requests.
    options: dict[str, Any] = {}
    if url.startswith("redis"):
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        options = {"socket_connect_timeout": 1, "socket_timeout": 1, "retry": Retry(NoBackoff(), 1)}
    limiter = Limiter(client_address, app=app, application_limits=limits, storage_uri=url,
                      storage_options=options, strategy="moving-window", key_prefix="auditor-rl",
                      enabled=settings.ratelimit_enabled, swallow_errors=True,
                      in_memory_fallback_enabled=True)
    limiter.request_filter(lambda: hook_integration() is not None)  # counted per integration instead
    app.extensions["auditor_limiter"] = limiter
    app.extensions["auditor_hook_limit"] = LocalWindow(settings.ratelimit_hooks) if settings.ratelimit_enabled else None
    log.debug("request limits in %s", url.split("@")[-1])


class LocalWindow:
    """A moving-window limit (one or more ``N/period`` items) counted in this process's memory.

    For the per-integration webhook limit: a provider posts back to back, and a round trip to a
    shared store per request would cost more than the rest of accepting it. With N processes an
    integration gets up to N times the limit (it only stops a runaway sender). A refused request
    is not counted.
    """

    def __init__(self, value: str) -> None:
        from limits import parse_many
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.items = parse_many(value)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())  # expires idle keys by itself
        self._lock = threading.Lock()  # test every item, then count in all: a refusal counts in none

    def hit(self, key: str) -> tuple[str, int] | None:
        """Count one request for ``key``; None when allowed, else (the limit, seconds to wait)."""
        with self._lock:
            for item in self.items:
                if not self.limiter.test(item, key):
                    reset = self.limiter.get_window_stats(item, key).reset_time
                    return str(item), max(1, int(reset - time.time()) + 1)
            for item in self.items:
                self.limiter.hit(item, key)
        return None


def hook_limit_refusal(target: Any) -> Any:
    """A 429 problem when the webhook integration ``target`` is over its limit in this process, else None."""
    window = current_app.extensions.get("auditor_hook_limit")
    over = window.hit(target.token_sha256[:32]) if window is not None else None
    if over is None:
        return None
    from auditor.errors import problem

    return problem(429, "Too Many Requests", f"more than {over[0]} from this integration; retry in {over[1]} seconds",
                   headers={"Retry-After": str(over[1])})


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
