"""Real-shaped messages signed with test DKIM keys published in a loopback zone."""

from __future__ import annotations

import base64
import secrets
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DOMAIN = "shop.example"
BITS = {"s2048": 2048, "s1024": 1024, "s512": 512}
UNSUB_URL = f"https://{DOMAIN}/u/abc"


def _prime(bits: int) -> int:
    """A random probable prime (Miller-Rabin, 40 rounds) of exactly ``bits`` bits."""
    while True:
        n = secrets.randbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if all(n % p for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)) and _probable_prime(n):
            return n


def _probable_prime(n: int) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(40):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _weak_key(bits: int) -> rsa.RSAPrivateKey:
    """An RSA key below what ``cryptography`` will generate (RFC 8301 forbids using it: that is the test)."""
    e = 65537
    while True:
        p, q = _prime(bits // 2), _prime(bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e and (p * q).bit_length() == bits:
            break
    d = pow(e, -1, phi)
    pub = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), pub).private_key()


@cache
def key(bits: int) -> tuple[bytes, str]:
    """(private PEM, base64 SubjectPublicKeyInfo) of an RSA test key of ``bits``."""
    k = rsa.generate_private_key(public_exponent=65537, key_size=bits) if bits >= 1024 else _weak_key(bits)
    pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(pub).decode()


def _txt(value: str) -> str:
    return " ".join(f'"{value[i:i + 200]}"' for i in range(0, len(value), 200))


def zone() -> str:
    """shop.example with three selectors, a revoked one, and a domain list with one listed link domain."""
    keys = "\n".join(f'{sel}._domainkey IN TXT {_txt("v=DKIM1; k=rsa; p=" + key(bits)[1])}'
                     for sel, bits in BITS.items())
    return textwrap.dedent(f"""\
        $ORIGIN {DOMAIN}.
        @ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 86400 300
        @ IN NS ns.{DOMAIN}.
        ns IN A 192.0.2.53
        @ IN TXT "v=spf1 ip4:192.0.2.10 -all"
        _dmarc IN TXT "v=DMARC1; p=reject"
        revoked._domainkey IN TXT "v=DKIM1; k=rsa; p="
        """) + keys + textwrap.dedent("""
        evil.example IN TXT "v=spf1 -all"
        2.0.0.127.dbl.test. IN A 127.0.0.2
        test.dbl.test. IN A 127.0.0.2
        bad-links.example.dbl.test. IN A 127.0.1.2
        """)


DEFAULT_TEXT = f"Our November offers.\nUnsubscribe / отписаться: {UNSUB_URL}\n"
DEFAULT_HTML = (f'<p>Our November offers at <a href="https://{DOMAIN}/sale">{DOMAIN}</a>.</p>'
                f'<p><a href="{UNSUB_URL}">Отписаться от рассылки</a></p>')


def make_raw(*, from_: str = f"Shop News <news@{DOMAIN}>", subject: str = "November offers",
             html: str | None = DEFAULT_HTML, text: str | None = DEFAULT_TEXT,
             list_unsubscribe: str | None = f"<{UNSUB_URL}>, <mailto:unsub@{DOMAIN}>",
             post: str | None = "List-Unsubscribe=One-Click", selector: str | None = "s2048",
             domain: str = DOMAIN, sign_headers: list[str] | None = None, date: bool = True,
             message_id: bool = True, extra: dict[str, str] | None = None,
             tamper: Callable[[bytes], bytes] | None = None) -> bytes:
    """A marketing message as an ESP would send it, DKIM-signed unless ``selector`` is None."""
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = "customer@example.org"
    msg["Subject"] = subject
    if date:
        msg["Date"] = format_datetime(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    if message_id:
        msg["Message-ID"] = make_msgid(domain=DOMAIN)
    if list_unsubscribe is not None:
        msg["List-Unsubscribe"] = list_unsubscribe
    if post is not None:
        msg["List-Unsubscribe-Post"] = post
    for k, v in (extra or {}).items():
        msg[k] = v
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    if selector is not None:
        heads = sign_headers or ["from", "to", "subject", "date", "message-id", "list-unsubscribe",
                                 "list-unsubscribe-post"]
        bits = BITS.get(selector, 2048)
        raw = dkim.sign(raw, selector.encode(), domain.encode(), key(bits)[0],
                        include_headers=[h.encode() for h in heads]) + raw
    if tamper is not None:
        raw = tamper(raw)
    return raw


@pytest.fixture
def resolver(dns_server, resolver_for) -> Any:
    """A resolver on the loopback zone that publishes the test keys."""
    return resolver_for(dns_server(zone(), DOMAIN))


@pytest.fixture
def check(resolver) -> Callable[..., Any]:
    """check_message through the loopback resolver."""
    from checks.message import check_message

    def run(raw: Any, **kw: Any) -> Any:
        return check_message(raw, resolver=resolver, **kw)

    return run


def ids(report: Any) -> set[str]:
    """Rule ids of a report's findings."""
    return {f.rule_id for f in report.findings}
