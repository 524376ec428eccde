"""The identity vault: each subject's identifier sealed under its own key (crypto-shredding).

The per-subject key is itself wrapped under a key-encryption key derived from the ledger key,
so a database copy alone reveals no identifier; deleting the subject's key row makes every
copy of the sealed identifier (replicas, backups) unreadable (152-FZ art. 21, GDPR art. 17).
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_kek(ledger_key: bytes) -> AESGCM:
    """The key-encryption key (HKDF-SHA256 of the ledger key, RFC 5869)."""
    kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"consent_ledger identity vault v1").derive(ledger_key)
    return AESGCM(kek)


def seal(kek: AESGCM, pseudonym: str, identifier: str) -> tuple[bytes, bytes]:
    """(wrapped subject key, sealed identifier) for a new subject; both bound to the pseudonym."""
    key = AESGCM.generate_key(bit_length=256)
    aad = pseudonym.encode()
    n1, n2 = os.urandom(12), os.urandom(12)
    return n1 + kek.encrypt(n1, key, aad), n2 + AESGCM(key).encrypt(n2, identifier.encode(), aad)


def unseal(kek: AESGCM, pseudonym: str, wrapped_key: bytes, sealed: bytes) -> str:
    """The identifier, given the subject's wrapped key (raises InvalidTag if anything differs)."""
    aad = pseudonym.encode()
    key = kek.decrypt(wrapped_key[:12], wrapped_key[12:], aad)
    return AESGCM(key).decrypt(sealed[:12], sealed[12:], aad).decode()
