"""Zone helpers for the DNS checks: a base zone, keys for DKIM records, a served resolver."""

from __future__ import annotations

import base64
import secrets
import textwrap
from collections.abc import Callable
from functools import lru_cache

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from checks.findings import Finding

DOMAIN = "example.test"
SENDER_IP = "192.0.2.10"
SENDER_IP6 = "2001:db8::10"

BASE = textwrap.dedent(f"""\
    $ORIGIN {DOMAIN}.
    @ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 86400 300
    @ IN NS ns.{DOMAIN}.
    ns IN A 192.0.2.53
    """)

GOOD = textwrap.dedent(f"""\
    @ IN MX 10 mail.{DOMAIN}.
    mail IN A {SENDER_IP}
    mail IN AAAA {SENDER_IP6}
    @ IN TXT "v=spf1 ip4:{SENDER_IP} ip6:{SENDER_IP6} -all"
    _dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{DOMAIN}"
    _mta-sts IN TXT "v=STSv1; id=20261122"
    _smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tls@{DOMAIN}"
    default._bimi IN TXT "v=BIMI1; l=https://{DOMAIN}/logo.svg"
    10.2.0.192.in-addr.arpa. IN PTR mail.{DOMAIN}.
    """)


def zone(*lines: str, good: bool = True) -> str:
    """The base zone, the well-configured records (unless ``good=False``) and ``lines``."""
    return BASE + (GOOD if good else "") + "\n".join(textwrap.dedent(x).strip() for x in lines) + "\n"


def txt_chunks(value: str) -> str:
    """A TXT value split into quoted 200-byte strings (RFC 1035 caps one string at 255)."""
    return " ".join(f'"{value[i:i + 200]}"' for i in range(0, len(value), 200))


def _spki(key) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@lru_cache
def rsa_public(bits: int) -> str:
    """Base64 SubjectPublicKeyInfo of an RSA key of ``bits`` (a bare modulus below 1024)."""
    if bits < 1024:  # cryptography will not generate such keys; a public key needs only n, e
        n = secrets.randbits(bits) | (1 << (bits - 1)) | 1
        return _spki(rsa.RSAPublicNumbers(65537, n).public_key())
    return _spki(rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key())


@lru_cache
def ed25519_public() -> str:
    """Base64 raw 32-byte ed25519 public key (RFC 8463 §4.2)."""
    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def ids(findings: list[Finding]) -> set[str]:
    """The rule ids among findings."""
    return {f.rule_id for f in findings}


@pytest.fixture
def serve(dns_server, resolver_for) -> Callable[..., object]:
    """Serve zone text on loopback and return a resolver pointed at it."""

    def run(text: str, origin: str | None = None, timeout: float = 1.0, **kw):
        return resolver_for(dns_server(text, origin, **kw), timeout)

    return run
