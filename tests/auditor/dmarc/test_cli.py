"""``auditor dmarc import FILE...``: counts, duplicates, refused files with reasons, exit codes."""

from __future__ import annotations

import json

from tests.auditor.dmarc.conftest import five_receivers
from tests.auditor.dmarc.samples import (
    DOMAIN,
    tls_report,
)
from tests.checks.test_dmarc_reports import BOMB


def test_import_every_container_then_duplicates_and_refusals(dmarc_env, tmp_path):
    from tests.conftest import Runner

    runner = Runner(dmarc_env.app)
    files = {**five_receivers(), "tls.json": tls_report()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [str(tmp_path / n) for n in files]
    r = runner.invoke(["dmarc", "import", *paths, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"imported": 6, "duplicates": 0, "refused": []}

    (tmp_path / "bomb.xml").write_bytes(BOMB)
    r = runner.invoke(["dmarc", "import", paths[0], str(tmp_path / "bomb.xml"), "--json"])
    assert r.exit_code == 1
    out = json.loads(r.output)
    assert (out["imported"], out["duplicates"]) == (0, 1)
    assert out["refused"][0]["file"].endswith("bomb.xml") and "DTD" in out["refused"][0]["reason"]

    human = runner.invoke(["dmarc", "import", paths[1]])
    assert human.exit_code == 0 and "0 imported, 1 duplicates, 0 refused" in human.output

    c = dmarc_env.app.test_client()
    src = c.get(f"/api/v1/domains/{DOMAIN}/sources?from=2026-11-28&to=2026-11-28", headers=dmarc_env.reader).json
    assert {s["ip"]: (s["messages"], s["verdict"]) for s in src["sources"]} == {
        "203.0.113.5": (7, "unauthorised"), "209.85.220.41": (5, "forwarded"), "192.0.2.10": (180, "authorised"),
        "192.0.2.11": (100, "authorised"), "198.51.100.7": (60, "authorised")}


def test_missing_file_is_bad_usage(dmarc_env, tmp_path):
    from tests.conftest import Runner

    r = Runner(dmarc_env.app).invoke(["dmarc", "import", str(tmp_path / "nope.xml"), "--json"])
    assert r.exit_code == 1 and "cannot read" in json.loads(r.output)["refused"][0]["reason"]


def test_fetch_without_a_mailbox_is_bad_usage_and_a_bad_url_is_refused(make_app):
    from tests.conftest import Runner

    r = Runner(make_app()).invoke(["dmarc", "fetch"])
    assert r.exit_code == 2 and "AUDITOR_DMARC_MAILBOX is not set" in r.output
    r = Runner(make_app(dmarc_mailbox="pop3://x@127.0.0.1/")).invoke(["dmarc", "fetch"])
    assert r.exit_code == 2 and "must be imap:// or imaps://" in r.output
    # Nothing listens on port 9 (discard): a connection failure is one line, exit 2.
    r = Runner(make_app(dmarc_mailbox="imap://u:p@127.0.0.1:9/INBOX")).invoke(["dmarc", "fetch"])
    assert r.exit_code == 2 and "mailbox 127.0.0.1" in r.output and "p@" not in r.output
