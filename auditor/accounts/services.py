"""Accounts behaviour: create users, check passwords, issue and resolve API keys, log actions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.accounts.models import ROLES, ApiKey, AuditEntry, User
from auditor.db import utcnow

# Argon2id, memory-hard (RFC 9106 second recommended option: 64 MiB, 3 passes).
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
_DUMMY_HASH = _hasher.hash("not-a-password")

ALL_SCOPES = (
    "consent:read", "consent:write", "consent:erase", "ledger:read", "campaign:read",
    "campaign:submit", "review:write", "gate:check", "message:check", "domain:read",
    "domain:write", "report:read", "admin",
)
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset(ALL_SCOPES),
    # The DPO answers erasure requests (152-FZ art. 21, GDPR art. 17): legal may erase.
    "legal": frozenset({"consent:read", "consent:erase", "ledger:read", "campaign:read", "review:write",
                        "domain:read", "report:read", "message:check"}),
    "security": frozenset({"ledger:read", "campaign:read", "review:write", "domain:read",
                           "domain:write", "report:read", "message:check"}),
    "sender": frozenset({"consent:read", "consent:write", "campaign:read", "campaign:submit",
                         "gate:check", "message:check", "domain:read"}),
}
DEFAULT_KEY_SCOPES = ("consent:write", "campaign:submit", "gate:check")
KEY_PREFIX = "aud_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message says why."""


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user, through a session or an API key, with effective scopes."""

    user_id: int
    email: str
    role: str
    scopes: frozenset[str]
    key_id: int | None = None
    key_name: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log and the ledger name this actor."""
        return f"key:{self.key_id}:{self.key_name}" if self.key_id else f"user:{self.email}"


def normalise_email(email: str) -> str:
    """Lower-cased, validated login email."""
    try:
        # Logins are identities, not recipients: reserved test names (RFC 6761 .test) are accepted.
        return validate_email(email, check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"invalid email {email!r}: {exc}") from None


def hash_password(password: str) -> str:
    """Argon2id hash."""
    if len(password) < 10:
        raise AccountError("password must have at least 10 characters")
    return _hasher.hash(password)


def create_user(session: Session, email: str, role: str, password: str | None) -> User:
    """Add a user; refuses duplicates and unknown roles."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    email = normalise_email(email)
    if session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"user {email} already exists")
    user = User(email=email, role=role, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user whose password matches, else None (constant work either way)."""
    try:
        email = normalise_email(email)
    except AccountError:
        email = ""
    user = session.scalar(select(User).where(User.email == email, User.active.is_(True))) if email else None
    try:
        _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if user and user.password_hash else None


def set_password(session: Session, user: User, password: str) -> None:
    """Replace a user's password."""
    user.password_hash = hash_password(password)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, user: User, name: str, scopes: list[str] | None = None) -> tuple[ApiKey, str]:
    """Issue a key acting as ``user``; returns the row and the clear key (shown once)."""
    wanted = list(scopes or DEFAULT_KEY_SCOPES)
    unknown = [s for s in wanted if s not in ALL_SCOPES]
    if unknown:
        raise AccountError(f"unknown scope(s): {', '.join(unknown)}")
    beyond = [s for s in wanted if s not in ROLE_SCOPES[user.role]]
    if beyond:
        raise AccountError(f"role {user.role} cannot hold scope(s): {', '.join(beyond)}")
    if not name.strip():
        raise AccountError("a key needs a name")
    clear = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name.strip(), user=user, prefix=clear[:10], key_hash=_digest(clear), scopes=",".join(wanted))
    session.add(key)
    session.flush()
    return key, clear


def resolve_key(session: Session, clear: str) -> Principal | None:
    """The principal of an unrevoked key of an active user; updates last-used at most once a minute."""
    if not clear.startswith(KEY_PREFIX) or len(clear) > 100:
        return None
    digest = _digest(clear)
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, digest):
        return None
    user = key.user
    if not user.active:
        return None
    principal = Principal(user.id, user.email, user.role, key.scope_set & ROLE_SCOPES[user.role], key.id, key.name)
    now = utcnow()
    last = key.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or now - last > LAST_USED_RESOLUTION:
        _touch(session, key.id, now)
    return principal


def _touch(session: Session, key_id: int, now) -> None:
    """Record last use in a short write of its own; losing a race here costs nothing."""
    from sqlalchemy import update
    from sqlalchemy.exc import OperationalError

    from auditor.db import begin_write

    session.rollback()  # end the read snapshot before writing (SQLite WAL)
    try:
        with session.begin():
            begin_write(session)
            session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    except OperationalError:
        session.rollback()


def principal_for_user(user: User) -> Principal:
    """A session principal with the role's scopes."""
    return Principal(user.id, user.email, user.role, ROLE_SCOPES[user.role])


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key by id."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise AccountError(f"no key with id {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def record(session: Session, actor: str, action: str, target: str = "", **detail: Any) -> AuditEntry:
    """Append an entry to the audit log (in the caller's transaction)."""
    entry = AuditEntry(actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    return entry
