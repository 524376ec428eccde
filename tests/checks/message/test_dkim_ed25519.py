"""Ed25519 DKIM (RFC 8463): the Appendix A example verifies through the loopback DNS server."""

from __future__ import annotations

import pytest

from checks.message.dkim import verify_signatures

# RFC 8463 Appendix A.2 (keys) and A.3 (the signed message), as published.
ED25519_KEY = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
RSA_KEY = ("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jL"
           "QiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G"
           "+2kryOTIKT+l/K4w3QIDAQAB")
MESSAGE = """\
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=brisbane; t=1528637909; h=from : to :
 subject : date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
 Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=test; t=1528637909; h=from : to : subject :
 date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3
 DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz
 dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game.  Are you hungry yet?

Joe.
""".replace("\n", "\r\n").encode()

ZONE = f"""\
$ORIGIN football.example.com.
@ IN SOA ns hostmaster 1 3600 600 86400 300
brisbane._domainkey IN TXT "{ED25519_KEY}"
test._domainkey IN TXT "{RSA_KEY[:200]}" "{RSA_KEY[200:]}"
"""


@pytest.fixture
def football(dns_server, resolver_for):
    return resolver_for(dns_server(ZONE))


def test_rfc8463_example_verifies_with_ed25519_and_rsa(football) -> None:
    rows = verify_signatures(MESSAGE, resolver=football)
    assert [(r["s"], r["ok"], r["error"]) for r in rows] == [("brisbane", True, None), ("test", True, None)]
    assert rows[0]["bits"] == 256 and rows[0]["d"] == "football.example.com"


def test_rfc8463_example_with_a_changed_body_fails(football) -> None:
    rows = verify_signatures(MESSAGE.replace(b"hungry", b"thirsty"), resolver=football)
    assert [r["ok"] for r in rows] == [False, False]
    assert "body hash mismatch" in rows[0]["error"]
