"""The load scenario shared by the load test and bench/load.py: an approved campaign and a server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.auditor.campaigns.loop import Loop
from tests.reliability.loadgen import LoadResult, Request, json_request, run_load
from tests.reliability.server import ServerProcess


@dataclass
class Scenario:
    """A running multi-worker server with an approved campaign over ``recipients``."""

    loop: Loop
    server: ServerProcess
    token: str
    recipients: list[str]


def prepare(loop: Loop, db_url: str, *, recipients: int, workers: int) -> Scenario:
    """Record consents for most recipients, approve a campaign, start ``workers`` processes."""
    people = [f"load{i}@example.org" for i in range(recipients)]
    batch = [{"type": "granted", "subject": p, "channel": "email", "purpose": "marketing",
              "method": "signup-form", "claimed_at": "2026-11-01T10:00:00+00:00",
              "evidence": {"source_url": "https://shop.example/signup", "notice_version": "v1"}}
             for p in people[: int(recipients * 0.9)]]
    for i in range(0, len(batch), 5000):
        r = loop.client.post("/api/v1/consents", json={"events": batch[i:i + 5000]}, headers=loop.h("sender"))
        assert r.status_code == 201, r.get_data(as_text=True)
    _, token = loop.approved(people[:10])
    svc = loop.app.extensions["auditor"]
    env = {"AUDITOR_DNS_NAMESERVERS": svc.settings.dns_nameservers or "",
           "AUDITOR_BLOCKLISTS": svc.settings.blocklists or ""}
    server = ServerProcess(svc.settings.instance_path, db_url, workers=workers, env=env).start()
    return Scenario(loop, server, token, people)


def mixed_load(sc: Scenario, *, count: int, concurrency: int, deadline_s: float, gate_batch: int = 100,
               consent_share: float = 0.3) -> LoadResult:
    """Gate checks of ``gate_batch`` recipients and single consent appends, interleaved."""
    key = sc.loop.keys["sender"]
    every = max(1, round(1 / consent_share)) if consent_share else 0

    def make(i: int) -> Request:
        if every and i % every == 0:
            subject = f"new{i}@example.org"
            return json_request("consent_append", "POST", "/api/v1/consents", {
                "type": "granted", "subject": subject, "channel": "email", "purpose": "marketing",
                "evidence": {"source_url": "https://shop.example/signup"}}, key)
        start = (i * gate_batch) % max(1, len(sc.recipients) - gate_batch)
        return json_request("gate_check", "POST", "/api/v1/gate/check", {
            "approval_token": sc.token, "recipients": sc.recipients[start:start + gate_batch]}, key)

    def on_ok(req: Request, data: bytes) -> Any:
        if req[0] == "consent_append":
            return json.loads(req[3])["subject"]
        body = json.loads(data)
        return None if body.get("allowed") is not None else "bad-gate-body"

    return run_load(sc.server.base, make, count=count, concurrency=concurrency, deadline_s=deadline_s, on_ok=on_ok)


def health_load(sc: Scenario, *, count: int, concurrency: int, deadline_s: float) -> LoadResult:
    """The baseline: the same server answering /healthz."""
    return run_load(sc.server.base, lambda i: ("healthz", "GET", "/healthz", None, {}), count=count,
                    concurrency=concurrency, deadline_s=deadline_s)


def ledger_findings(sc: Scenario, acked: list[Any]) -> dict[str, Any]:
    """Whether every acknowledged append is in the ledger, and whether the ledger verifies."""
    from auditor.ledger.services import get_ledger

    sc.loop.app.extensions["auditor"].extras.clear()
    ledger = get_ledger(sc.loop.app)
    subjects = [a for a in acked if a != "bad-gate-body"]
    states = ledger.current_states([ledger.pseudonym_of(s, "email") for s in subjects], "email", "marketing")
    report = ledger.verify()
    return {"acked_appends": len(subjects), "found_appends": len(states), "verify_ok": report.ok,
            "bad_gate_bodies": acked.count("bad-gate-body"), "ledger_size": ledger.size()}
