"""Against a running ``auditor serve``: every provider's events through real HTTP, then the gate;
the same through a Celery worker on Redis; a truncated body over a raw socket stores nothing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.auditor.campaigns.loop import build_loop
from tests.auditor.integrations.conftest import Hooks, build_hooks
from tests.checks.providers.conftest import UNISENDER_KEY, fixture_bytes
from tests.reliability.server import ServerProcess

PEOPLE = ("anna", "boris", "vera", "gleb")
EXPECTED = {"anna": "allowed", "boris": "CONSENT-WITHDRAWN", "vera": "CONSENT-WITHDRAWN",
            "gleb": "DELIVERY-HARD-BOUNCE"}


def _addr(name: str, provider: str) -> str:
    return f"{name}.{provider}@example.org"


def _body(provider: str) -> list[bytes]:
    """The provider's fixture(s) with the people renamed to this provider's own addresses."""
    from checks.providers.unisender import sign

    def rename(raw: bytes) -> bytes:
        for name in (*PEOPLE, "dina", "egor"):
            raw = raw.replace(f"{name}@example.org".encode(), _addr(name, provider).encode())
            raw = raw.replace(f"{name}%40example.org".encode(), _addr(name, provider).replace("@", "%40").encode())
        return raw

    if provider == "mailchimp":
        return [rename(fixture_bytes(f"mailchimp_{n}.txt")) for n in ("unsubscribe", "abuse", "hard", "subscribe")]
    if provider == "unisender":
        return [sign(UNISENDER_KEY, json.loads(rename(fixture_bytes("unisender.json"))))]
    return [rename(fixture_bytes(f"{provider}.json"))]


def _post(hooks: Hooks, base: str, provider: str, body: bytes) -> tuple[int, dict]:
    headers = {"Content-Type": "application/x-www-form-urlencoded" if provider == "mailchimp" else "application/json"}
    if provider == "sendgrid":
        headers.update(hooks.signer.headers(body))
    req = urllib.request.Request(base + hooks.urls[provider], data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _gate(hooks: Hooks, base: str, recipients: list[str]) -> dict[str, str]:
    data = json.dumps({"approval_token": hooks.token, "recipients": recipients}).encode()
    req = urllib.request.Request(base + "/api/v1/gate/check", data=data, method="POST",
                                 headers={"Content-Type": "application/json", **hooks.loop.h("sender")})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = json.loads(r.read())
    out = {a["recipient"]: "allowed" for a in body["allowed"]}
    out.update({s["recipient"]: s["rule_id"] for s in body["suppressed"]})
    return out


def _setting(make_app, make_user, dns_server, db_url: str) -> Hooks:
    hooks = build_hooks(build_loop(make_app, make_user, dns_server, database_url=db_url))
    for provider in hooks.urls:
        for name in PEOPLE:
            hooks.loop.consented(_addr(name, provider))
    return hooks


def test_every_provider_through_a_running_server_then_the_gate(make_app, make_user, dns_server, db_url):
    hooks = _setting(make_app, make_user, dns_server, db_url)
    server = ServerProcess(Path(hooks.loop.app.instance_path), db_url, threads=4).start()
    try:
        for provider in hooks.urls:
            people = [_addr(n, provider) for n in PEOPLE]
            assert set(_gate(hooks, server.base, people).values()) == {"allowed"}
            for body in _body(provider):
                status, answer = _post(hooks, server.base, provider, body)
                assert status == 200, answer
                status, again = _post(hooks, server.base, provider, body)  # a retry after a timeout
                assert status == 200 and again["duplicate"] is True
            assert _gate(hooks, server.base, people) == {_addr(n, provider): r for n, r in EXPECTED.items()}
            assert len(hooks.withdrawals(_addr("boris", provider))) == 1
        forged = _body("sendgrid")[0].replace(b"anna.", b"anya.")
        req = urllib.request.Request(server.base + hooks.urls["sendgrid"], data=forged, method="POST",
                                     headers={"Content-Type": "application/json",
                                              **hooks.signer.headers(_body("sendgrid")[0])})
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req, timeout=30)
        assert exc.value.code == 403
        before = hooks.count("webhook_inbox")
        # A truncated body: Content-Length promises more than arrives before the client goes away.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            body = _body("sendpulse")[0]
            sock.sendall(f"POST {hooks.urls['sendpulse']} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body) + 500}\r\nConnection: close\r\n\r\n".encode() + body)
            sock.shutdown(socket.SHUT_WR)
            reply = sock.recv(4096)
        assert not reply.startswith(b"HTTP/1.1 200")
        time.sleep(0.5)
        assert hooks.count("webhook_inbox") == before
    finally:
        server.stop()


@pytest.fixture
def worker(tmp_path: Path):
    """Start ``auditor worker`` with an environment; stopped (and its log printed) afterwards."""
    procs = []

    def start(env: dict[str, str]) -> subprocess.Popen:
        log = tmp_path / "worker.log"
        p = subprocess.Popen([sys.executable, "-m", "auditor", "worker", "--concurrency", "2"],
                             env=env, cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT)
        procs.append((p, log))
        return p

    yield start
    for p, log in procs:
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        print(log.read_text()[-3000:])


def test_celery_worker_processes_the_inbox_on_redis(make_app, make_user, dns_server, sqlite_url, redis_url,
                                                    worker):
    hooks = _setting(make_app, make_user, dns_server, sqlite_url)
    env = {"AUDITOR_BROKER_URL": redis_url}
    server = ServerProcess(Path(hooks.loop.app.instance_path), sqlite_url, threads=4, env=env).start()
    try:
        status, answer = _post(hooks, server.base, "sendgrid", _body("sendgrid")[0])
        assert status == 200 and answer["state"] == "received"  # durable; no worker yet
        people = [_addr(n, "sendgrid") for n in PEOPLE]
        assert set(_gate(hooks, server.base, people).values()) == {"allowed"}
        worker({**os.environ, **server.env})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and hooks.count("webhook_inbox", "state = 'processed'") < 1:
            time.sleep(0.1)
        assert _gate(hooks, server.base, people) == {_addr(n, "sendgrid"): r for n, r in EXPECTED.items()}
    finally:
        server.stop()
