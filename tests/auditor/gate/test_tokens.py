"""Approval and unsubscribe tokens: unforgeable, bound to what they name, no address inside."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auditor.gate.tokens import (
    TokenError,
    issue_approval_token,
    read_unsubscribe_token,
    unsubscribe_key,
    unsubscribe_token,
    verify_approval_token,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PSEUDONYM = "3f" * 32


def _approval(key: Ed25519PrivateKey, **over) -> str:
    claims = {"token_id": "t1", "campaign_id": 7, "content_sha256": "ab" * 32, "issued_at": NOW,
              "expires_at": NOW + timedelta(hours=72)}
    claims.update(over)
    return issue_approval_token(key, **claims)


def test_approval_token_round_trip():
    key = Ed25519PrivateKey.generate()
    claims = verify_approval_token(key.public_key(), _approval(key), now=NOW)
    assert (claims.token_id, claims.campaign_id, claims.content_sha256) == ("t1", 7, "ab" * 32)


def test_approval_token_from_another_key_is_refused():
    token = _approval(Ed25519PrivateKey.generate())
    with pytest.raises(TokenError, match="signature"):
        verify_approval_token(Ed25519PrivateKey.generate().public_key(), token, now=NOW)


def test_altered_approval_payload_is_refused():
    key = Ed25519PrivateKey.generate()
    prefix, payload, sig = _approval(key).split(".")
    forged_payload = _approval(key, campaign_id=8).split(".")[1]
    with pytest.raises(TokenError, match="signature"):
        verify_approval_token(key.public_key(), f"{prefix}.{forged_payload}.{sig}", now=NOW)


@pytest.mark.parametrize("junk", ["", "apv1", "apv1..", "apv2.a.b", "apv1.!!.??", "x" * 5000])
def test_malformed_approval_tokens_are_refused(junk):
    with pytest.raises(TokenError):
        verify_approval_token(Ed25519PrivateKey.generate().public_key(), junk, now=NOW)


def test_expired_approval_token_is_refused():
    key = Ed25519PrivateKey.generate()
    token = _approval(key, expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(TokenError, match="expired"):
        verify_approval_token(key.public_key(), token, now=NOW)


def test_unsubscribe_token_round_trip_and_no_address_inside():
    key = unsubscribe_key("app-secret")
    token = unsubscribe_token(key, 42, PSEUDONYM, "email", "marketing")
    claims = read_unsubscribe_token(key, token)
    assert (claims.campaign_id, claims.pseudonym, claims.channel, claims.purpose) == (
        42, PSEUDONYM, "email", "marketing")
    assert b"@" not in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_unsubscribe_token_cannot_be_edited_into_another_recipients():
    key = unsubscribe_key("app-secret")
    token = unsubscribe_token(key, 42, PSEUDONYM, "email", "marketing")
    blob = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    blob[10] ^= 0x01  # one bit of the pseudonym: another subject
    forged = base64.urlsafe_b64encode(bytes(blob)).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="signature"):
        read_unsubscribe_token(key, forged)


def test_unsubscribe_token_from_another_secret_is_refused():
    token = unsubscribe_token(unsubscribe_key("other"), 42, PSEUDONYM, "email", "marketing")
    with pytest.raises(TokenError):
        read_unsubscribe_token(unsubscribe_key("app-secret"), token)


@pytest.mark.parametrize("junk", ["", "a", "%%%", "AAAA", "A" * 4100])
def test_malformed_unsubscribe_tokens_are_refused(junk):
    with pytest.raises(TokenError):
        read_unsubscribe_token(unsubscribe_key("app-secret"), junk)
