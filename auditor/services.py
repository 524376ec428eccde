"""The per-application container: settings, engine, sessions, keys; and the request session."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from auditor.config import Settings, parse_nameservers


@dataclass
class Services:
    """Everything a request, a CLI command or a job needs, built once per app."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    secret_key: str
    ledger_key: bytes
    signing_key: Ed25519PrivateKey
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        """Configured DNS servers as (ip, port)."""
        return parse_nameservers(self.settings.dns_nameservers)

    @cached_property
    def public_key_pem(self) -> bytes:
        """The PEM of the signing key's public half."""
        from cryptography.hazmat.primitives import serialization

        return self.signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def services(app: Flask | None = None) -> Services:
    """The Services of ``app`` (default: the current app)."""
    return (app or current_app).extensions["auditor"]


def db() -> Session:
    """The request's session (one per request or CLI command; closed at teardown)."""
    if "db_session" not in g:
        g.db_session = services().sessions()
    return g.db_session


def close_db(_exc: BaseException | None = None) -> None:
    """Close the request's session (registered as teardown)."""
    s = g.pop("db_session", None)
    if s is not None:
        s.close()
