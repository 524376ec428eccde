"""Real-shaped provider payloads (tests/checks/providers/fixtures) and signing helpers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

FIXTURES = Path(__file__).parent / "fixtures"
UNISENDER_KEY = "6ou4ekyf8yoedyd4tia5yjm7ko8dypydw4nhcg1j"


def fixture_bytes(name: str) -> bytes:
    """A fixture file's bytes (form bodies without the trailing newline)."""
    return (FIXTURES / name).read_bytes().strip()


def unisender_body(api_key: str = UNISENDER_KEY) -> bytes:
    """The UniOne fixture with its ``auth`` computed as UniOne does."""
    from checks.providers.unisender import sign

    data = json.loads(fixture_bytes("unisender.json"))
    return sign(api_key, data)


class SendGridSigner:
    """An ECDSA P-256 key pair standing in for SendGrid's: signs timestamp + body."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_b64 = base64.b64encode(der).decode("ascii")

    def headers(self, body: bytes, timestamp: str = "1795425100") -> dict[str, str]:
        """The two headers SendGrid sends with a signed batch."""
        sig = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode("ascii"),
                "X-Twilio-Email-Event-Webhook-Timestamp": timestamp}
