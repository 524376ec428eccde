"""Approval tokens (Ed25519, bound to a campaign's content) and unsubscribe tokens (HMAC).

Approval token: ``apv1.<base64url payload>.<base64url signature>``; the payload is compact JSON
``{"tid", "cid", "sha", "iat", "exp", "kid"}`` and the signature covers ``apv1.<payload>``.

Unsubscribe token: base64url of ``version | campaign id | pseudonym | channel NUL purpose``
followed by a 128-bit truncated HMAC-SHA-256 tag (RFC 2104 §5 allows truncation to half the
output). It carries the ledger pseudonym, never the address, and the tag binds every field,
so a token cannot be forged or edited into another recipient's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consent_ledger.identifiers import KeyedHash

APPROVAL_PREFIX = "apv1"
_UNSUB_VERSION = 1
_TAG_BYTES = 16
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class TokenError(ValueError):
    """A token is malformed, forged, expired or otherwise unusable; ``reasons`` say why."""

    def __init__(self, *reasons: str) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or len(text) > 4096:
        raise ValueError("empty or oversized")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class ApprovalClaims:
    """What a verified approval token says."""

    token_id: str
    campaign_id: int
    content_sha256: str
    issued_at: datetime
    expires_at: datetime
    key_id: str


def issue_approval_token(signing_key: Ed25519PrivateKey, *, token_id: str, campaign_id: int,
                         content_sha256: str, issued_at: datetime, expires_at: datetime) -> str:
    """Sign an approval token (deterministic: the same claims give the same token)."""
    claims = {"tid": token_id, "cid": campaign_id, "sha": content_sha256,
              "iat": int(issued_at.timestamp()), "exp": int(expires_at.timestamp()),
              "kid": key_id(signing_key.public_key())}
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signed = f"{APPROVAL_PREFIX}.{payload}"
    return f"{signed}.{_b64(signing_key.sign(signed.encode('ascii')))}"


def verify_approval_token(public_key: Ed25519PublicKey, token: str, *,
                          now: datetime | None = None) -> ApprovalClaims:
    """Check an approval token's form, signature and expiry; raise TokenError with reasons."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != APPROVAL_PREFIX:
        raise TokenError("the approval token is malformed (expected apv1.<payload>.<signature>)")
    try:
        signature = _unb64(parts[2])
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (ValueError, binascii.Error, InvalidSignature, UnicodeEncodeError):
        raise TokenError("the approval token's signature does not verify (forged, altered, "
                         "or signed by another instance's key)") from None
    try:
        c = json.loads(_unb64(parts[1]))
        claims = ApprovalClaims(str(c["tid"]), int(c["cid"]), str(c["sha"]),
                                datetime.fromtimestamp(int(c["iat"]), UTC),
                                datetime.fromtimestamp(int(c["exp"]), UTC), str(c["kid"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise TokenError("the approval token's payload is malformed") from None
    if (now or datetime.now(UTC)) >= claims.expires_at:
        raise TokenError(f"the approval token expired at {claims.expires_at.isoformat()}")
    return claims


@dataclass(frozen=True)
class UnsubscribeClaims:
    """Whose unsubscribe a token is: campaign, ledger pseudonym, channel, purpose."""

    campaign_id: int
    pseudonym: str
    channel: str
    purpose: str


def unsubscribe_key(secret_key: str | bytes) -> bytes:
    """The HMAC key for unsubscribe tokens, derived from the app secret (domain-separated)."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, b"auditor/unsubscribe-token/v1", hashlib.sha256).digest()


class UnsubscribeSigner:
    """Signs many unsubscribe tokens of one campaign, channel and purpose cheaply."""

    def __init__(self, key: bytes, campaign_id: int, channel: str, purpose: str) -> None:
        self._head = struct.pack(">BI", _UNSUB_VERSION, campaign_id)
        self._tail = channel.encode() + b"\x00" + purpose.encode()
        self._mac = KeyedHash(key)

    def token(self, pseudonym: str) -> str:
        """The token for one recipient's pseudonym (hex)."""
        raw = bytes.fromhex(pseudonym)
        payload = self._head + bytes((len(raw),)) + raw + self._tail
        tag = self._mac.digest(payload)[:_TAG_BYTES]
        return binascii.b2a_base64(payload + tag, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def unsubscribe_token(key: bytes, campaign_id: int, pseudonym: str, channel: str, purpose: str) -> str:
    """A signed unsubscribe token for one recipient of a campaign."""
    return UnsubscribeSigner(key, campaign_id, channel, purpose).token(pseudonym)


def read_unsubscribe_token(key: bytes, token: str) -> UnsubscribeClaims:
    """Verify and decode an unsubscribe token; raise TokenError if forged or malformed."""
    try:
        blob = _unb64(token)
    except (ValueError, binascii.Error):
        raise TokenError("the unsubscribe link is malformed") from None
    if len(blob) < 6 + _TAG_BYTES:
        raise TokenError("the unsubscribe link is malformed")
    payload, tag = blob[:-_TAG_BYTES], blob[-_TAG_BYTES:]
    expected = hmac.digest(key, payload, "sha256")[:_TAG_BYTES]
    if not hmac.compare_digest(tag, expected):
        raise TokenError("the unsubscribe link's signature does not verify")
    try:
        version, campaign_id = struct.unpack(">BI", payload[:5])
        n = payload[5]
        pseudonym = payload[6:6 + n].hex()
        channel, purpose = payload[6 + n:].decode().split("\x00")
    except (struct.error, ValueError, IndexError):
        raise TokenError("the unsubscribe link is malformed") from None
    if version != _UNSUB_VERSION or len(pseudonym) != 2 * n or not channel or not purpose:
        raise TokenError("the unsubscribe link is malformed")
    return UnsubscribeClaims(campaign_id, pseudonym, channel, purpose)
