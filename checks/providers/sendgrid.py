"""SendGrid Event Webhook: a JSON array of events, optionally signed with ECDSA P-256.

The signature (base64 DER, header ``X-Twilio-Email-Event-Webhook-Signature``) covers the
timestamp header's value followed by the raw body, hashed with SHA-256; the verification key
is the public key SendGrid shows (base64 of the DER SubjectPublicKeyInfo).
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from checks.providers import (
    ProviderEvent,
    SignatureError,
    campaign_number,
    event_id,
    json_array_events,
    short,
    unix_time,
)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

_KINDS = {"processed": "processed", "delivered": "delivered", "deferred": "deferred", "dropped": "dropped",
          "open": "opened", "click": "clicked", "spamreport": "complaint", "unsubscribe": "unsubscribe",
          "group_unsubscribe": "group_unsubscribe"}


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The verification key from SendGrid's base64 DER (a PEM text is accepted too)."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"not a SendGrid verification key (base64 DER): {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("the SendGrid verification key must be an ECDSA P-256 public key")
    return key


@lru_cache(maxsize=256)
def _verifier(public_key: str) -> ec.EllipticCurvePublicKey:
    """The loaded key of a verification key text (parsed once per key, not per request)."""
    return load_public_key(public_key)


def verify_signature(public_key: str, signature: str | None, timestamp: str | None, body: bytes) -> None:
    """Raise SignatureError unless ``signature`` is the key's ECDSA signature of timestamp + body."""
    if not signature or not timestamp:
        raise SignatureError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}")
    try:
        sig = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the signature is not base64") from None
    try:
        _verifier(public_key).verify(sig, timestamp.encode("utf-8") + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignatureError("the signature does not match the body and timestamp") from None


def _kind(ev: dict[str, Any]) -> str:
    name = ev.get("event")
    if name == "bounce":
        # "bounce" is permanent (5.x.x); "blocked" is the receiver refusing for now (RFC 3463 4.x.x).
        kind = str(ev.get("type") or "bounce").lower()
        return "soft_bounce" if kind == "blocked" else "hard_bounce"
    return _KINDS.get(str(name), "other")


def raw_events(body: bytes) -> list[dict[str, Any]]:
    """The events of one Event Webhook POST as sent, checked (PayloadError says what is wrong)."""
    return json_array_events(body, "SendGrid")


def parse(body: bytes) -> list[ProviderEvent]:
    """The events of one Event Webhook POST."""
    out = []
    for ev in raw_events(body):  # checked there: nothing below refuses
        name = ev["event"]
        custom = ev.get("custom_args")
        if type(custom) is not dict:
            custom = {}
        out.append(ProviderEvent(
            kind=_kind(ev), recipient=ev["email"].strip(),
            # Apple Mail Privacy Protection prefetches images: SendGrid flags those opens (delivery KPIs).
            provider_type="machine_open" if name == "open" and ev.get("sg_machine_open") is True else name,
            event_id=event_id(ev.get("sg_event_id"), ev),
            occurred_at=unix_time(ev["timestamp"], "timestamp"),
            campaign_id=campaign_number(ev.get("auditor_campaign", custom.get("auditor_campaign"))),
            esp_campaign=short(ev.get("singlesend_id") or ev.get("marketing_campaign_id")
                               or ev.get("sg_message_id"), 200),
            reason=short(ev.get("reason") or ev.get("status") or ev.get("asm_group_id")),
            url=short(ev.get("url"), 2000)))
    return out
