"""Crash safety: SIGKILL the server at random while clients append consents and unsubscribe.

Every event acknowledged with 2xx must be in the ledger after the restarts, nothing that was
never sent may be, and the whole ledger must verify.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest

from auditor.gate.tokens import unsubscribe_key, unsubscribe_token
from tests.reliability.server import ServerProcess

pytestmark = pytest.mark.slow

KILLS = 6
CLIENTS = 6


@dataclass
class Tally:
    """What each client saw: acknowledged, refused and uncertain (no answer) operations."""

    acked_grants: set[str] = field(default_factory=set)
    acked_withdrawals: set[str] = field(default_factory=set)
    sent_grants: set[str] = field(default_factory=set)
    sent_withdrawals: set[str] = field(default_factory=set)
    uncertain: int = 0
    errors_5xx: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post(url: str, data: bytes, headers: dict[str, str]) -> int | None:
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, http.client.HTTPException):
        return None  # connection refused or reset: the server died under us


def _client(n: int, server: ServerProcess, key: str, tokens: dict[str, str], tally: Tally,
            stop: threading.Event) -> None:
    rng = random.Random(n)
    i = 0
    while not stop.is_set():
        with tally.lock:
            granted = sorted(tally.acked_grants - tally.sent_withdrawals)
        if granted and rng.random() < 0.35:
            subject = rng.choice(granted)
            with tally.lock:
                tally.sent_withdrawals.add(subject)
            status = _post(f"{server.base}/u/{tokens[subject]}", b"List-Unsubscribe=One-Click",
                           {"Content-Type": "application/x-www-form-urlencoded"})
            with tally.lock:
                if status == 200:
                    tally.acked_withdrawals.add(subject)
                elif status is None:
                    tally.uncertain += 1
                elif status >= 500:
                    tally.errors_5xx += 1
        else:
            subject = f"c{n}-{i}@example.org"
            i += 1
            if subject not in tokens:
                continue
            with tally.lock:
                tally.sent_grants.add(subject)
            body = json.dumps({"type": "granted", "subject": subject, "channel": "email", "purpose": "marketing",
                               "evidence": {"source_url": "https://shop.example/signup"},
                               "claimed_at": "2026-11-01T10:00:00+00:00"}).encode()
            status = _post(f"{server.base}/api/v1/consents", body,
                           {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
            with tally.lock:
                if status == 201:
                    tally.acked_grants.add(subject)
                elif status is None:
                    tally.uncertain += 1
                elif status >= 500:
                    tally.errors_5xx += 1
        if status is None:
            time.sleep(0.05)


def test_acknowledged_events_survive_sigkill(backend_url, make_app, make_user, tmp_path, figures):
    from auditor.ledger.services import get_ledger

    app = make_app(database_url=backend_url)
    _, key = make_user("crm@auditor.test", "sender", scopes=["consent:write"], target_app=app)
    ledger = get_ledger(app)
    ukey = unsubscribe_key(app.extensions["auditor"].secret_key)
    tokens = {}
    for n in range(CLIENTS):
        for i in range(4000):
            subject = f"c{n}-{i}@example.org"
            tokens[subject] = unsubscribe_token(ukey, 1, ledger.pseudonym_of(subject, "email"), "email", "marketing")

    server = ServerProcess(app.extensions["auditor"].settings.instance_path, backend_url).start()
    tally, stop = Tally(), threading.Event()
    threads = [threading.Thread(target=_client, args=(n, server, key, tokens, tally, stop), daemon=True)
               for n in range(CLIENTS)]
    for t in threads:
        t.start()
    rng = random.Random(42)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.4, 1.5))
            server.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            server.start()
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
        server.stop()

    # What the ledger holds, read fresh from the database.
    app.extensions["auditor"].extras.clear()
    ledger = get_ledger(app)
    by_pseudonym = {ledger.pseudonym_of(s, "email"): s for s in tokens}
    found: dict[str, set[str]] = {"granted": set(), "withdrawn": set()}
    foreign = []
    for p, subject in by_pseudonym.items():
        for event in ledger.history(p):
            if event["type"] in found and subject not in found[event["type"]]:
                found[event["type"]].add(subject)
            else:
                foreign.append(event)  # another type, or a duplicate of an event
    granted, withdrawn = found["granted"], found["withdrawn"]
    assert tally.acked_grants, "the clients got no acknowledgement at all"
    assert tally.acked_grants <= granted, f"lost acknowledged grants: {sorted(tally.acked_grants - granted)[:5]}"
    assert tally.acked_withdrawals <= withdrawn, f"lost unsubscribes: {sorted(tally.acked_withdrawals - withdrawn)[:5]}"
    assert granted <= tally.sent_grants and withdrawn <= tally.sent_withdrawals, "events nobody sent"
    assert not foreign
    assert ledger.size() == len(granted) + len(withdrawn)
    report = ledger.verify()
    assert report.ok, report
    assert tally.errors_5xx == 0
    figures({"backend": app.extensions["auditor"].engine.dialect.name, "kills": KILLS, "restarts": server.starts - 1,
             "acked_grants": len(tally.acked_grants), "acked_withdrawals": len(tally.acked_withdrawals),
             "found_grants": len(granted), "found_withdrawals": len(withdrawn),
             "uncertain_requests": tally.uncertain, "ledger_size": ledger.size(), "verify_ok": report.ok})
