"""An app on SQLite or PostgreSQL resolving through a loopback zone with PTRs and DKIM keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.auditor.dmarc import samples
from tests.auditor.dmarc.samples import DOMAIN, Row
from tests.checks.conftest import rsa_public

ZONE = f"""
$ORIGIN {DOMAIN}.
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
@ IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 include:sendgrid.net -all"
s1._domainkey IN TXT "v=DKIM1; k=rsa; p={{key}}"
google._domainkey IN TXT "v=DKIM1; k=rsa; p={{key}}"
10.2.0.192.in-addr.arpa. IN PTR mail.{DOMAIN}.
11.2.0.192.in-addr.arpa. IN PTR mx2.{DOMAIN}.
7.100.51.198.in-addr.arpa. IN PTR o1.ptr1234.sendgrid.net.
41.220.85.209.in-addr.arpa. IN PTR mail-sor-f41.google.com.
"""

S1 = ((DOMAIN, "s1", "pass"),)
OWN_SPF = ((DOMAIN, "pass"),)
# What each receiver saw on 2026-11-28 (see test_api's EXPECTED for the sums).
GOOGLE = [Row("192.0.2.10", 100, "pass", "pass", S1, OWN_SPF),
          Row("198.51.100.7", 40, "pass", "fail", ((DOMAIN, "em", "pass"),), (("em.sendgrid.net", "pass"),)),
          Row("203.0.113.5", 4, "fail", "fail", (), (("attacker.example", "fail"),))]
YAHOO = [Row("192.0.2.10", 50, "pass", "pass", S1, OWN_SPF)]
MAILRU = [Row("198.51.100.7", 20, "pass", "fail", ((DOMAIN, "em", "pass"),), (("em.sendgrid.net", "pass"),)),
          Row("203.0.113.5", 3, "fail", "fail", (), ((DOMAIN, "fail"),))]
YANDEX = [Row("209.85.220.41", 5, "pass", "fail", S1, ((DOMAIN, "softfail"),))]
MICROSOFT = [Row("192.0.2.10", 30, "pass", "pass", S1, OWN_SPF),
             Row("192.0.2.11", 90, "pass", "pass", ((DOMAIN, "google", "pass"),), OWN_SPF),
             Row("192.0.2.11", 10, "fail", "fail", ((DOMAIN, "google", "fail"),), (("bounce.other.example", "fail"),))]


def five_receivers() -> dict[str, bytes]:
    """The five receivers' reports of 2026-11-28, each in the container it sends, by file name."""
    s = samples
    return {"google.zip": s.zipped(s.google(GOOGLE), "google.com!shop.example!1764288000!1764374399.xml"),
            "yahoo.xml.gz": s.gz(s.yahoo(YAHOO)), "mailru.xml": s.mailru(MAILRU),
            "yandex.eml": s.as_email(s.zipped(s.yandex(YANDEX)), "yandex.ru!shop.example.zip", "application/zip"),
            "ms.xml.gz": s.gz(s.microsoft(MICROSOFT))}


@dataclass
class Env:
    """The app and its clients."""

    app: Any
    headers: dict[str, str]
    reader: dict[str, str]


@pytest.fixture
def dmarc_env(make_app, dns_server, make_user, db_url) -> Env:
    """The app on ``db_url``; a security key (domain:read+write) and a read-only key."""
    key = rsa_public(1024)
    server = dns_server(ZONE.replace("{key}", key), DOMAIN)
    app = make_app(database_url=db_url, dns_nameservers=server.nameserver, dns_timeout=1.0)
    sec = make_user("sec@auditor.test", "security", scopes=["domain:read", "domain:write"], target_app=app)[1]
    rd = make_user("snd@auditor.test", "sender", scopes=["domain:read"], target_app=app)[1]
    return Env(app, {"Authorization": f"Bearer {sec}"}, {"Authorization": f"Bearer {rd}"})


@pytest.fixture
def post(dmarc_env) -> Callable[..., Any]:
    """POST one report file."""
    client = dmarc_env.app.test_client()

    def send(data: bytes, headers: dict[str, str] | None = None):
        return client.post("/api/v1/dmarc/reports", data=data, headers={
            **(dmarc_env.headers if headers is None else headers), "Content-Type": "application/octet-stream"})

    return send
