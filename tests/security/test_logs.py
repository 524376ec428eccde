"""No secret, address or token reaches a log, even in tracebacks."""

from __future__ import annotations

import logging

from tests.auditor.campaigns.loop import build_loop


def test_logs_hold_no_key_address_or_token(make_app, make_user, dns_server, caplog):
    caplog.set_level(logging.DEBUG)
    loop = build_loop(make_app, make_user, dns_server)
    app = loop.app

    @app.get("/boom/<who>")
    def boom(who):  # an unexpected error whose message carries an address
        raise RuntimeError(f"could not mail {who} with key {loop.keys['sender']}")

    subject = "private.person@example.org"
    loop.consented(subject)
    cid, token = loop.approved([subject])
    gate = loop.gate(token, [subject, "+79991234567"]).json
    unsubscribe_url = gate["allowed"][0]["unsubscribe_url"]
    unsub_token = unsubscribe_url.rsplit("/u/", 1)[1]
    loop.client.post(f"/u/{unsub_token}", data={"List-Unsubscribe": "One-Click"})
    loop.client.post("/login", data={"email": "sender@auditor.test", "password": "a wrong password"})
    assert loop.client.get(f"/boom/{subject}").status_code == 500
    logging.getLogger("auditor.test").info("key %s token %s phone %s", loop.keys["admin"], unsub_token,
                                           "+79991234567")

    text = caplog.text
    assert "unhandled error" in text and "RuntimeError" in text  # the error itself is logged
    for secret in (*loop.keys.values(), subject, "+79991234567", unsub_token, token, "a wrong password"):
        assert secret not in text, f"leaked into the logs: {secret[:12]}..."
