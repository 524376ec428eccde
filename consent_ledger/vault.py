"""The identity vault: each subject's identifier sealed under its own key (crypto-shredding).

The per-subject key is itself wrapped under a key-encryption key derived from the ledger key,
so a database copy alone reveals no identifier; deleting the subject's key row makes every
copy of the sealed identifier (replicas, backups) unreadable (152-FZ art. 21, GDPR art. 17).
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_kek(ledger_key: bytes) -> AESGCM:
    """The key-encryption key (HKDF-SHA256 of the ledger key, RFC 5869)."""
    kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"consent_ledger identity vault v1").derive(ledger_key)
    return AESGCM(kek)


def new_subject(kek: AESGCM, pseudonym: str, identifier: str | None) -> tuple[bytes, bytes, bytes]:
    """(subject key, wrapped key, sealed identifier) for a new vault row; bound to the pseudonym.

    A subject known only by pseudonym gets a key (to seal its personal evidence) and an empty
    ``sealed``: there is no identifier to keep.
    """
    random = os.urandom(56)  # the key and both nonces in one call (what generate_key reads too)
    key, nonce = random[:32], random[32:44]
    aad = pseudonym.encode()
    if identifier is None:
        sealed = b""
    else:
        sealed_nonce = random[44:]
        sealed = sealed_nonce + AESGCM(key).encrypt(sealed_nonce, identifier.encode(), aad)
    return key, nonce + kek.encrypt(nonce, key, aad), sealed


def seal_identifier(key: bytes, pseudonym: str, identifier: str) -> bytes:
    """nonce || AES-GCM(subject key, identifier), bound to the pseudonym."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, identifier.encode(), pseudonym.encode())


def seal(kek: AESGCM, pseudonym: str, identifier: str) -> tuple[bytes, bytes]:
    """(wrapped subject key, sealed identifier) for a new subject; both bound to the pseudonym."""
    return new_subject(kek, pseudonym, identifier)[1:]


def unwrap(kek: AESGCM, pseudonym: str, wrapped_key: bytes) -> bytes:
    """The subject key (raises InvalidTag if the wrapped key or the pseudonym differ)."""
    return kek.decrypt(wrapped_key[:12], wrapped_key[12:], pseudonym.encode())


def unseal(kek: AESGCM, pseudonym: str, wrapped_key: bytes, sealed: bytes) -> str | None:
    """The identifier, given the subject's wrapped key (raises InvalidTag if anything differs);
    None for a subject known only by pseudonym."""
    if not sealed:
        return None
    key = unwrap(kek, pseudonym, wrapped_key)
    return AESGCM(key).decrypt(sealed[:12], sealed[12:], pseudonym.encode()).decode()


def _personal_aad(pseudonym: str) -> bytes:
    return b"personal:" + pseudonym.encode()


def seal_personal(key: bytes, pseudonym: str, plaintext: bytes) -> str:
    """Base64 of nonce || AES-GCM(subject key, personal evidence), bound to the pseudonym."""
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, _personal_aad(pseudonym))).decode()


def open_personal(key: bytes, pseudonym: str, box: str) -> bytes:
    """The sealed personal evidence (raises InvalidTag under any other key: erased)."""
    raw = base64.b64decode(box)
    return AESGCM(key).decrypt(raw[:12], raw[12:], _personal_aad(pseudonym))
