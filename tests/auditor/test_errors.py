"""Errors are one clear line (CLI, exit 2) or a problem document (API), whatever the input."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

DEEP = "[" * 100_000 + "]" * 100_000


def test_check_campaign_on_json_nested_100000_deep_is_one_line_exit_2(runner, tmp_path):
    doc = tmp_path / "deep.json"
    doc.write_text('{"name": "x", "message": ' + DEEP + "}")
    r = runner.invoke(["check", "campaign", str(doc)])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [f"auditor: {doc} is not valid JSON: JSON nested deeper than 32 levels"]


def test_ledger_verify_proof_on_deep_json_is_one_line(runner, tmp_path):
    proof, key = tmp_path / "p.json", tmp_path / "k.pem"
    proof.write_text(DEEP)
    key.write_text("x")
    r = runner.invoke(["ledger", "verify-proof", str(proof), "--public-key", str(key)])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "nested deeper" in r.output


def test_api_body_nested_100000_deep_is_a_400_problem(client, make_user):
    key = make_user("crm@shop.example", "sender", scopes=["consent:write"])[1]
    r = client.post("/api/v1/consents", data=DEEP, content_type="application/json",
                    headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json["detail"] == "JSON nested deeper than 32 levels"


def test_the_apps_413_is_a_problem_with_the_documented_limit(client, make_user):
    key = make_user("crm@shop.example", "sender", scopes=["consent:write"])[1]
    r = client.post("/api/v1/consents", data=b"x" * 10_485_761, content_type="application/json",
                    headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 413
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json["detail"] == "the request body is larger than 10485760 bytes"


@pytest.fixture
def served(app):
    """The app behind waitress as ``auditor serve`` runs it, on a free loopback port."""
    from auditor.errors import waitress_server

    server = waitress_server(app, "127.0.0.1", 0, 2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port
    server.close()
    thread.join(5)


@pytest.mark.parametrize("size", [10_485_761, 10_486_785, 12_000_000])
def test_the_servers_413_is_the_same_problem(served, size):
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    conn.putrequest("POST", "/api/v1/consents")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    try:
        conn.send(b"x" * size)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the whole body is sent
    r = conn.getresponse()
    assert r.status == 413
    assert r.getheader("Content-Type").startswith("application/problem+json")
    assert json.loads(r.read())["detail"] == "the request body is larger than 10485760 bytes"
    conn.close()


def test_a_body_within_the_limit_reaches_the_app_through_the_server(served):
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    conn.request("POST", "/api/v1/consents", body=b"{}", headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 401 and r.getheader("Content-Type").startswith("application/problem+json")
    conn.close()


def test_erasing_something_that_is_no_identifier_says_what_was_expected(runner):
    r = runner.invoke(["ledger", "erase", "not an email"])
    assert r.exit_code == 2
    assert "not an email address, a phone number" in r.output and "phone number" in r.output.split("\n")[0]
    assert len(r.output.strip().splitlines()) == 1
