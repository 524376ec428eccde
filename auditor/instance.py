"""The instance folder: generated secrets kept once, mode 0600, never logged."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _read_or_create(path: Path, make: callable) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return data


def secret_key(folder: Path) -> str:
    """Flask secret: sessions, CSRF and signed unsubscribe links."""
    return _read_or_create(folder / "secret_key", lambda: secrets.token_hex(32).encode()).decode()


def ledger_key(folder: Path) -> bytes:
    """HMAC key for pseudonyms (hex on disk)."""
    return bytes.fromhex(
        _read_or_create(folder / "ledger_key", lambda: secrets.token_hex(32).encode()).decode().strip()
    )


def signing_key_pem(folder: Path) -> bytes:
    """Ed25519 private key (PKCS#8 PEM) for checkpoints and approval tokens."""

    def make() -> bytes:
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    return _read_or_create(folder / "signing_key.pem", make)


def load_signing_key(pem: bytes | str) -> Ed25519PrivateKey:
    """Parse an Ed25519 private key in PEM."""
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key
