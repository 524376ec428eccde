"""Monitoring fixtures: a sender's zone that tests change between audits, a webhook receiver and an
SMTP receiver (real servers on loopback threads), and the app wired to them."""

from __future__ import annotations

import base64
import json
import socketserver
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DOMAIN = "shop.example"
SELECTOR = "s1"
IP = "192.0.2.10"
BLOCKLISTS = "ip:bl.test=block,domain:dbl.test=block"


@lru_cache(maxsize=2)
def dkim_public_key(bits: int = 2048) -> str:
    """Base64 of an RSA public key for the DKIM record."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def zone(*, dkim: bool | str = True, dmarc: str | None = "reject", listed: bool = False, ptr: bool = True,
         spf: str = f"v=spf1 ip4:{IP} -all", mx: str = "mail", domain_listed: bool = False) -> str:
    """The sender's zone and RFC 5782 test lists ``bl.test`` (IPs) and ``dbl.test`` (domains).

    ``dkim``: True (2048-bit key), False (no record), ``"1024"`` (short key) or ``"revoked"`` (empty p=).
    """
    p = {"revoked": "p=", "1024": "p=" + dkim_public_key(1024)}.get(str(dkim), "p=" + dkim_public_key())
    chunks = " ".join(f'"{p[i:i + 200]}"' for i in range(0, len(p), 200))
    lines = [
        f"$ORIGIN {DOMAIN}.",
        f"@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 86400 300",
        f"@ IN NS ns.{DOMAIN}.",
        "ns IN A 192.0.2.53",
        f"@ IN MX 10 {mx}.{DOMAIN}.",
        f"{mx} IN A {IP}",
        f'@ IN TXT "{spf}"',
        "2.0.0.127.bl.test. IN A 127.0.0.2",
        "test.dbl.test. IN A 127.0.0.2",
    ]
    if dmarc:
        lines.append(f'_dmarc IN TXT "v=DMARC1; p={dmarc}; rua=mailto:dmarc@{DOMAIN}"')
    if dkim:
        lines.append(f'{SELECTOR}._domainkey IN TXT "v=DKIM1; k=rsa; " {chunks}')
    if ptr:
        lines.append(f"10.2.0.192.in-addr.arpa. IN PTR {mx}.{DOMAIN}.")
    if listed:
        lines += ["10.2.0.192.bl.test. IN A 127.0.0.2", '10.2.0.192.bl.test. IN TXT "seen spamming"']
    if domain_listed:
        lines.append(f"{DOMAIN}.dbl.test. IN A 127.0.1.2")
    return textwrap.dedent("\n".join(lines)) + "\n"


# --- a webhook receiver ---------------------------------------------------------------------

@dataclass
class Webhook:
    """A real HTTP server on loopback that keeps every POSTed JSON body."""

    server: ThreadingHTTPServer
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """Where to POST (with a secret-looking path, as chat webhooks have)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0KEN"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The bodies once at least ``count`` arrived (or whatever came within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    break
            time.sleep(0.05)
        with self.lock:
            return list(self.received)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """Start a webhook receiver; it answers ``webhook.status`` (200 unless a test changes it)."""
    holder: dict[str, Webhook] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            hook = holder["hook"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if hook.status == 200:
                with hook.lock:
                    hook.received.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                          "json": json.loads(body), "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["hook"] = hook = Webhook(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


# --- an SMTP receiver -----------------------------------------------------------------------

@dataclass
class Mailbox:
    """Messages an SMTP server on loopback accepted: (envelope recipients, raw message)."""

    port: int
    messages: list[tuple[list[str], bytes]] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A minimal RFC 5321 server (EHLO, MAIL, RCPT, DATA, QUIT) that keeps what it receives."""
    box_holder: dict[str, Mailbox] = {}

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            self.reply("220 test ESMTP")
            rcpts: list[str] = []
            while line := self.rfile.readline():
                cmd = line.decode(errors="replace").strip()
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 test")
                elif verb == "MAIL":
                    rcpts = []
                    self.reply("250 ok")
                elif verb == "RCPT":
                    rcpts.append(cmd.split(":", 1)[1].strip(" <>"))
                    self.reply("250 ok")
                elif verb == "DATA":
                    self.reply("354 go ahead")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk
                    box_holder["box"].messages.append((rcpts, data))
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box_holder["box"] = box = Mailbox(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield box
    server.shutdown()
    server.server_close()


# --- the app on the zone --------------------------------------------------------------------

@dataclass
class Setting:
    """The app, the zone server it resolves through, and the webhook it alerts."""

    app: Any
    dns: Any
    hook: Webhook

    def publish(self, **kw: Any) -> None:
        """Change the served zone (see ``zone()``)."""
        self.dns.set_zone(zone(**kw), DOMAIN)


@pytest.fixture
def monitoring(make_app, dns_server, webhook) -> Callable[..., Setting]:
    """Build the app on a database URL, resolving through the test zone and alerting the webhook."""

    def build(database_url: str, **settings: Any) -> Setting:
        server = dns_server(zone(), DOMAIN)
        app = make_app(database_url=database_url, dns_nameservers=server.nameserver, dns_timeout=2.0,
                       blocklists=BLOCKLISTS, alert_webhook=webhook.url, **settings)
        return Setting(app, server, webhook)

    return build
