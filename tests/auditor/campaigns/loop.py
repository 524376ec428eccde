"""The whole loop's setting, shared by the campaign, gate and unsubscribe tests.

A loopback DNS server publishes the sender's domain (SPF, DMARC, DKIM key, MX, PTR) and two
local blocklists; the app resolves through it. Users: a sender (two, to test four eyes across
senders), legal, security, admin; each with an API key of the scopes its role allows.
"""

from __future__ import annotations

import base64
import json
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DOMAIN = "shop.example"
SELECTOR = "s1"
SENDER_IP = "192.0.2.10"
BLOCKLISTS = "ip:bl.test=block,domain:dbl.test=block"
ROLE_SCOPES = {
    "sender": ["consent:write", "consent:read", "campaign:submit", "campaign:read", "gate:check"],
    "legal": ["campaign:read", "review:write"],
    "security": ["campaign:read", "review:write"],
    "admin": ["campaign:read", "review:write", "campaign:submit", "gate:check", "consent:write"],
}


@lru_cache(maxsize=1)
def dkim_key() -> tuple[bytes, str]:
    """A 2048-bit RSA test key: (private PEM, base64 public key for the DNS record)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(pub).decode()


def zone_text() -> str:
    """The sender's zone, its PTR, and two RFC 5782 test blocklists, in one master file."""
    p = "p=" + dkim_key()[1]
    chunks = " ".join(f'"{p[i:i + 200]}"' for i in range(0, len(p), 200))
    return textwrap.dedent(f"""\
        $ORIGIN {DOMAIN}.
        @ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 86400 300
        @ IN NS ns.{DOMAIN}.
        ns IN A 192.0.2.53
        @ IN MX 10 mail.{DOMAIN}.
        mail IN A {SENDER_IP}
        @ IN TXT "v=spf1 ip4:{SENDER_IP} -all"
        _dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{DOMAIN}"
        {SELECTOR}._domainkey IN TXT "v=DKIM1; k=rsa; " {chunks}
        10.2.0.192.in-addr.arpa. IN PTR mail.{DOMAIN}.
        2.0.0.127.bl.test. IN A 127.0.0.2
        2.0.0.127.bl.test. IN TXT "test entry"
        test.dbl.test. IN A 127.0.0.2
        spam-links.example.dbl.test. IN A 127.0.1.2
        """)


def signed_message(*, subject: str = "November offers", html: str | None = None, text: str | None = None,
                   list_unsubscribe: bool = True, sign: bool = True, from_: str = f"Shop News <news@{DOMAIN}>",
                   extra_headers: dict[str, str] | None = None) -> str:
    """A real-shaped marketing message, DKIM-signed with the key the zone publishes."""
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = "customer@example.org"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = make_msgid(domain=DOMAIN)
    if list_unsubscribe:
        msg["List-Unsubscribe"] = f"<https://{DOMAIN}/unsubscribe/abc>, <mailto:unsub@{DOMAIN}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for k, v in (extra_headers or {}).items():
        msg[k] = v
    text = text or (f"Реклама. OOO Shop, {DOMAIN}. Our November offers.\n"
                    f"Unsubscribe / отписаться: https://{DOMAIN}/unsubscribe/abc\n")
    html = html or (f"<p>Реклама. OOO Shop, <a href=\"https://{DOMAIN}/\">{DOMAIN}</a>.</p>"
                    f"<p>Our November offers.</p><p><a href=\"https://{DOMAIN}/unsubscribe/abc\">"
                    "Unsubscribe / отписаться</a></p>")
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    if sign:
        heads = [b"from", b"to", b"subject", b"date", b"message-id"]
        if list_unsubscribe:
            heads += [b"list-unsubscribe", b"list-unsubscribe-post"]
        raw = dkim.sign(raw, SELECTOR.encode(), DOMAIN.encode(), dkim_key()[0], include_headers=heads) + raw
    return raw.decode("utf-8")


def campaign_doc(recipients: list[str], **over: Any) -> dict[str, Any]:
    """A campaign that passes every check when its message and sender are left as they are."""
    doc: dict[str, Any] = {
        "name": "November promo",
        "channel": "email",
        "purpose": "marketing",
        "advertising": True,
        "jurisdictions": ["RU"],
        "sender": {"from": f"Shop News <news@{DOMAIN}>", "domain": DOMAIN, "ips": [SENDER_IP],
                   "dkim_selectors": [SELECTOR], "legal_name": "OOO Shop",
                   "postal_address": "1 Tverskaya St, Moscow 125009, Russia", "inn": "7700000000",
                   "phone": "+74950000000", "website": f"https://{DOMAIN}", "processing_country": "RU"},
        "message": {"raw": signed_message(), "ad_marking": {"label": "Реклама", "erid": "2Vtzqx1abcd"}},
        "unsubscribe": "own",
        "recipients": recipients,
    }
    for k, v in over.items():
        doc[k] = v
    return doc


@dataclass
class Loop:
    """The app, its client and the actors of the loop, with one helper per user step."""

    app: Any
    client: Any
    keys: dict[str, str] = field(default_factory=dict)
    last_doc: dict[str, Any] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        """Authorization header of ``who``."""
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def consent(self, subject: str, type_: str = "granted", **extra: Any) -> Any:
        """Record a consent event through the API, with full evidence."""
        event = {"type": type_, "subject": subject, "channel": "email", "purpose": "marketing",
                 "jurisdiction": "RU", "legal_basis": "consent", "method": "double-opt-in-form",
                 "evidence": {"source_url": f"https://{DOMAIN}/signup", "ip": "198.51.100.7",
                              "user_agent": "Mozilla/5.0", "notice_version": "2025-09",
                              "notice_sha256": "a" * 64, "separate_document": True,
                              "pre_ticked": False, "bundled": False},
                 "claimed_at": "2026-11-01T10:00:00+00:00"}
        event.update(extra)
        r = self.client.post("/api/v1/consents", json=event, headers=self.h("sender"))
        assert r.status_code == 201, r.get_data(as_text=True)
        return r.json

    def consented(self, subject: str) -> None:
        """Granted, then confirmed (double opt-in)."""
        self.consent(subject, "granted")
        self.consent(subject, "confirmed")

    def submit(self, doc: dict[str, Any], who: str = "sender") -> Any:
        """POST the campaign; returns the response."""
        return self.client.post("/api/v1/campaigns", json=doc, headers=self.h(who))

    def review(self, cid: int, who: str, decision: str, comment: str = "") -> Any:
        """POST a review decision as ``who``."""
        return self.client.post(f"/api/v1/campaigns/{cid}/reviews", json={"decision": decision,
                                "comment": comment}, headers=self.h(who))

    def token(self, cid: int, who: str = "sender") -> str | None:
        """The approval token as ``who`` sees it."""
        r = self.client.get(f"/api/v1/campaigns/{cid}", headers=self.h(who))
        assert r.status_code == 200, r.get_data(as_text=True)
        return (r.json["approval"] or {}).get("token")

    def gate(self, token: str, recipients: list[str], **extra: Any) -> Any:
        """POST a gate check."""
        return self.client.post("/api/v1/gate/check", json={"approval_token": token,
                                "recipients": recipients, **extra}, headers=self.h("sender"))

    def approved(self, recipients: list[str], **over: Any) -> tuple[int, str]:
        """Submit a clean campaign and have legal approve it; (campaign id, approval token)."""
        self.last_doc = campaign_doc(recipients, **over)
        r = self.submit(self.last_doc)
        assert r.status_code == 201, r.get_data(as_text=True)
        assert r.json["status"] == "needs_review", json.dumps(r.json["findings"], ensure_ascii=False)
        cid = r.json["id"]
        r = self.review(cid, "legal", "approve", "ok")
        assert r.status_code == 201 and r.json["status"] == "approved", r.get_data(as_text=True)
        return cid, self.token(cid)


def build_loop(make_app, make_user, dns_server, **settings: Any) -> Loop:
    """Start the zone, build the app on it, create the actors."""
    server = dns_server(zone_text(), DOMAIN)
    app = make_app(dns_nameservers=f"{server.address}:{server.port}", dns_timeout=1.0,
                   blocklists=BLOCKLISTS, posture_max_age_minutes=60, **settings)
    loop = Loop(app, app.test_client())
    for who, role in (("sender", "sender"), ("sender2", "sender"), ("legal", "legal"),
                      ("security", "security"), ("admin", "admin")):
        loop.keys[who] = make_user(f"{who}@auditor.test", role, scopes=ROLE_SCOPES[role], target_app=app)[1]
    return loop


@pytest.fixture
def loop(make_app, make_user, dns_server) -> Loop:
    """The whole loop on SQLite."""
    return build_loop(make_app, make_user, dns_server)
