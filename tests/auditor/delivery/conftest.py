"""A real-shaped SendGrid stream for one campaign, fed through the signed webhook in three batches.

Times are relative to now: the ledger records a withdrawal at the wall clock, and the late
delivery after it must come later still. Batch A (first to arrive) holds later events, batch B
the earlier ones (out of order) plus a replay, batch C a delivery after boris's unsubscribe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.auditor.campaigns.loop import build_loop
from tests.auditor.integrations.conftest import Hooks, build_hooks

POLICY = """\
sla:
  sg: {delivery_rate_min: 0.97, bounce_rate_max: 0.02, complaint_rate_max: 0.001,
       unsubscribe_honour_hours_max: 1, report_delay_hours_max: 1}
  uni: {delivery_rate_min: 0.5}
withdrawal_grace_minutes: 0
"""


def sg(email: str, event: str, at: datetime, eid: str, msg: str, campaign: int | None, **extra: Any) -> dict:
    """One SendGrid Event Webhook event."""
    ev = {"email": email, "event": event, "timestamp": int(at.timestamp()), "sg_event_id": eid,
          "sg_message_id": f"{msg}.filter0001.16648.5515E0B88.0", "category": ["promo"], **extra}
    if campaign is not None:
        ev["auditor_campaign"] = str(campaign)
    return ev


@dataclass
class Stream:
    """The hooks setting after the three batches."""

    hooks: Hooks
    base: datetime
    late_delivery: datetime
    boris_seq: int

    def get(self, path: str) -> Any:
        """GET an API path as legal (campaign:read)."""
        return self.hooks.client.get(path, headers=self.hooks.loop.h("legal"))


def feed(h: Hooks) -> Stream:
    """Post batches A, B, C; returns the setting."""
    cid = h.campaign_id
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    s = lambda secs: base + timedelta(seconds=secs)  # noqa: E731
    a = [sg("anna@example.org", "delivered", s(60), "a-del", "m-anna", cid),
         sg("anna@example.org", "delivered", s(65), "a-del-2", "m-anna", cid),  # the provider said it twice
         sg("anna@example.org", "open", s(800), "a-open", "m-anna", cid, sg_machine_open=False),
         sg("anna@example.org", "open", s(900), "a-open-2", "m-anna", cid, sg_machine_open=False),
         sg("anna@example.org", "click", s(900), "a-click", "m-anna", cid, url="https://shop.example/"),
         sg("boris@example.org", "unsubscribe", s(300), "b-unsub", "m-boris", cid),
         sg("vera@example.org", "spamreport", s(610), "v-spam", "m-vera", cid),
         sg("vera@example.org", "open", s(700), "v-open", "m-vera", cid, sg_machine_open=True),
         sg("gleb@example.org", "bounce", s(5), "g-bounce", "m-gleb", cid, type="bounce", status="5.1.1",
            reason="550 5.1.1 no such user")]
    b = [*(sg(f"{who}@example.org", "processed", s(0), f"{who}-proc", f"m-{who}", cid)
           for who in ("anna", "boris", "vera", "gleb", "dina", "egor")),
         sg("anna@example.org", "deferred", s(30), "a-defer", "m-anna", cid, response="400 try again later"),
         sg("boris@example.org", "delivered", s(120), "b-del", "m-boris", cid),
         sg("dina@example.org", "bounce", s(50), "d-blocked", "m-dina", cid, type="blocked", status="4.0.0",
            reason="421 4.7.0 Try again later"),
         sg("egor@example.org", "dropped", s(1), "e-drop", "m-egor", cid, reason="Bounced Address"),
         # vera's delivery happened before her complaint, though it arrives after it: no finding
         sg("vera@example.org", "delivered", s(600), "v-del", "m-vera", cid),
         sg("zoe@example.org", "delivered", s(1000), "z-del", "m-zoe", None),  # not linked to the campaign
         sg("anna@example.org", "open", s(800), "a-open", "m-anna", cid, sg_machine_open=False)]  # replayed
    for batch in (a, b):
        r = h.post("sendgrid", json.dumps(batch).encode())
        assert r.status_code == 200, r.get_data(as_text=True)
    (w,) = h.withdrawals("boris@example.org")
    late = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=2)
    r = h.post("sendgrid", json.dumps([sg("boris@example.org", "delivered", late, "b-del-late", "m-boris-2",
                                          cid)]).encode())
    assert r.status_code == 200, r.get_data(as_text=True)
    return Stream(h, base, late, w["seq"])


def build_stream(request: Any, make_app: Any, make_user: Any, dns_server: Any, tmp_path: Any,
                 backend: str) -> Stream:
    """The stream on one database."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    settings: dict[str, Any] = {"policy_file": str(policy)}
    if backend == "postgres":
        settings["database_url"] = request.getfixturevalue("pg_url")
    return feed(build_hooks(build_loop(make_app, make_user, dns_server, HOOK_MAX_BYTES=64 * 1024, **settings)))


@pytest.fixture(params=["sqlite", "postgres"])
def stream(request, make_app, make_user, dns_server, tmp_path) -> Stream:
    """The stream on SQLite and on PostgreSQL."""
    return build_stream(request, make_app, make_user, dns_server, tmp_path, request.param)


@pytest.fixture
def stream_sqlite(request, make_app, make_user, dns_server, tmp_path) -> Stream:
    """The stream on SQLite only."""
    return build_stream(request, make_app, make_user, dns_server, tmp_path, "sqlite")


QUIET_POLICY = """\
sla:
  sg: {delivery_rate_min: 0.97, bounce_rate_max: 0.02, complaint_rate_max: 0.001}
withdrawal_grace_minutes: 0
"""


@dataclass
class Quiet:
    """Three days of clean mail through sg (every rate 0 but delivery), mail nobody got through sg2
    (no complaint rate), and only an open through sg3 (nothing sent)."""

    hooks: Hooks
    start: datetime
    end: datetime

    @property
    def period(self) -> str:
        return f"from={self.start.date().isoformat()}&to={self.end.date().isoformat()}"


@pytest.fixture
def quiet_sqlite(make_app, make_user, dns_server, tmp_path) -> Quiet:
    """The quiet setting on SQLite."""
    from tests.auditor.integrations.conftest import add_integration

    policy = tmp_path / "policy.yaml"
    policy.write_text(QUIET_POLICY, encoding="utf-8")
    h = build_hooks(build_loop(make_app, make_user, dns_server, HOOK_MAX_BYTES=64 * 1024, policy_file=str(policy)))
    urls = {name: add_integration(h.loop.app, name, "sendgrid", h.signer.public_b64) for name in ("sg2", "sg3")}
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    clean = [sg(f"{who}@example.org", kind, day + timedelta(minutes=m), f"{who}-{kind}-{i}", f"m-{who}-{i}", None)
             for i, day in enumerate(days) for who in ("anna", "boris")
             for kind, m in (("processed", 0), ("delivered", 1))]
    batches = {h.urls["sendgrid"]: clean,
               urls["sg2"]: [sg("gleb@example.org", "processed", days[1], "g-proc", "m-gleb", None)],
               urls["sg3"]: [sg("vera@example.org", "open", days[1], "v-open", "m-vera", None)]}
    for url, batch in batches.items():
        r = h.post("sendgrid", json.dumps(batch).encode(), url=url)
        assert r.status_code == 200, r.get_data(as_text=True)
    return Quiet(h, days[0], days[-1])
