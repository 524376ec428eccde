"""Fixtures of the integration tests: the campaign loop plus one integration per provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tests.auditor.campaigns.loop import Loop, build_loop
from tests.checks.providers.conftest import UNISENDER_KEY, SendGridSigner

PEOPLE = ["anna@example.org", "boris@example.org", "vera@example.org", "gleb@example.org"]


@dataclass
class Hooks:
    """The loop, an approved campaign to PEOPLE (all consented), and webhook URLs per provider."""

    loop: Loop
    campaign_id: int
    token: str
    urls: dict[str, str]
    signer: SendGridSigner

    @property
    def client(self) -> Any:
        return self.loop.client

    def post(self, provider: str, body: bytes, **kw: Any) -> Any:
        """POST a body to the provider's webhook URL."""
        ctype = "application/x-www-form-urlencoded" if provider == "mailchimp" else "application/json"
        headers = kw.pop("headers", {})
        if provider == "sendgrid" and kw.pop("sign", True):
            headers = {**self.signer.headers(body), **headers}
        return self.client.post(kw.pop("url", self.urls[provider]), data=body, content_type=ctype,
                                headers=headers, **kw)

    def gate(self) -> dict[str, str]:
        """recipient -> rule id (or 'allowed') for PEOPLE now."""
        r = self.loop.gate(self.token, PEOPLE)
        assert r.status_code == 200, r.get_data(as_text=True)
        out = {a["recipient"]: "allowed" for a in r.json["allowed"]}
        out.update({s["recipient"]: s["rule_id"] for s in r.json["suppressed"]})
        return out

    def count(self, table: str, where: str = "1=1") -> int:
        """Rows of a table."""
        with self.loop.app.extensions["auditor"].engine.connect() as c:
            return c.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar()  # noqa: S608

    def withdrawals(self, subject: str) -> list[dict]:
        """The ledger's withdrawn events of a person."""
        from auditor.ledger.services import get_ledger

        ledger = get_ledger(self.loop.app)
        return [e for e in ledger.history(ledger.pseudonym_of(subject)) if e["type"] == "withdrawn"]


def add_integration(app: Any, name: str, provider: str, secret: str | None = None, **kw: Any) -> str:
    """Create an integration through the service; its webhook URL path."""
    from auditor.db import transaction
    from auditor.integrations import services as svc

    with transaction(app.extensions["auditor"].sessions) as s:
        _row, token = svc.create_integration(s, name=name, provider=provider, actor="test", secret=secret, **kw)
    return f"/hooks/{provider}/{token}"


def build_hooks(loop: Loop) -> Hooks:
    """Consent for PEOPLE, an approved campaign, four integrations."""
    for p in PEOPLE:
        loop.consented(p)
    cid, token = loop.approved(PEOPLE)
    signer = SendGridSigner()
    urls = {"sendgrid": add_integration(loop.app, "sg", "sendgrid", signer.public_b64, controller="OOO Shop"),
            "mailchimp": add_integration(loop.app, "mc", "mailchimp"),
            "unisender": add_integration(loop.app, "uni", "unisender", UNISENDER_KEY),
            "sendpulse": add_integration(loop.app, "sp", "sendpulse")}
    return Hooks(loop, cid, token, urls, signer)


@pytest.fixture(params=["sqlite", "postgres"])
def hooks(request, make_app, make_user, dns_server) -> Hooks:
    """The webhook setting on SQLite and on PostgreSQL."""
    settings = {}
    if request.param == "postgres":
        settings["database_url"] = request.getfixturevalue("pg_url")
    return build_hooks(build_loop(make_app, make_user, dns_server, HOOK_MAX_BYTES=64 * 1024, **settings))


@pytest.fixture
def hooks_sqlite(make_app, make_user, dns_server) -> Hooks:
    """The webhook setting on SQLite only (for the cases the storage does not change)."""
    return build_hooks(build_loop(make_app, make_user, dns_server, HOOK_MAX_BYTES=64 * 1024))
