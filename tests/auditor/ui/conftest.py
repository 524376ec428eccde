"""Fixtures of the UI tests: one user per role, logging in through the form, stored campaigns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ADMIN_PASSWORD

ROLES = ("admin", "legal", "security", "sender")
HTML = ('<html><head><link rel="stylesheet" href="https://tracker.example/s.css">'
        '<style>body{background:url(https://tracker.example/bg.png)}</style></head>'
        '<body><h1>Spring sale</h1><img src="https://tracker.example/pixel.gif" alt="pixel">'
        '<script>alert(1)</script><a href="https://shop.example/unsub">Unsubscribe</a></body></html>')


def email_of(role: str) -> str:
    """The test user of a role."""
    return f"{role}@auditor.test"


@pytest.fixture
def people(make_user) -> dict[str, int]:
    """A user per role (and a second sender); role -> user id."""
    ids = {role: make_user(email_of(role), role, key=False)[0] for role in ROLES}
    ids["sender2"] = make_user("sender2@auditor.test", "sender", key=False)[0]
    return ids


def login(client, role_or_email: str, password: str = ADMIN_PASSWORD):
    """Log in through the form (CSRF is off in the ``app`` fixture)."""
    email = role_or_email if "@" in role_or_email else email_of(role_or_email)
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def as_role(app, people) -> Callable[[str], Any]:
    """A fresh client logged in as a role."""

    def build(role: str):
        c = app.test_client()
        assert login(c, role).status_code == 302
        return c

    return build


FINDINGS = [
    {"rule_id": "DMARC-POLICY-NONE", "severity": "warn", "title": "DMARC policy is p=none (monitoring only)",
     "detail": "p=none", "citation": "RFC 7489 §6.3", "subject": "domain:shop.example",
     "evidence": {"record": "v=DMARC1; p=none"}},
    {"rule_id": "RU-38FZ-18.1-MARKING", "severity": "warn", "title": "x", "detail": "no erid",
     "citation": "38-FZ art. 18.1", "subject": "message", "evidence": {"label": None}},
    {"rule_id": "MTA-STS-MISSING", "severity": "info", "title": "No MTA-STS record", "detail": "",
     "citation": "RFC 8461", "subject": "domain:shop.example", "evidence": {}},
]


@pytest.fixture
def make_campaign(app, people) -> Callable[..., int]:
    """Store a submitted campaign as the campaigns service would; returns its id."""
    from auditor.accounts.models import User
    from auditor.campaigns.models import Campaign
    from auditor.db import transaction

    def build(name: str = "Spring sale", status: str = "needs_review", submitter: str = "sender",
              findings: list[dict] | None = None) -> int:
        with transaction(app.extensions["auditor"].sessions) as s:
            user = s.get(User, people[submitter])
            doc = {"name": name, "channel": "email", "purpose": "marketing", "jurisdictions": ["RU", "EU"],
                   "sender": {"from": "Shop <news@shop.example>", "domain": "shop.example"},
                   "message": {"subject": "Spring sale -20%", "html": HTML, "text": "Spring sale"}}
            c = Campaign(name=name, channel="email", purpose="marketing", document=doc, content_sha256="ab" * 32,
                         status=status, findings=FINDINGS if findings is None else findings,
                         recipient_count=3, allowed_count=2, suppressed_count=1,
                         reasons={"CONSENT-NONE": 1}, warnings={},
                         submitter_id=user.id, submitted_by=f"user:{user.email}")
            s.add(c)
            s.flush()
            return c.id

    return build
