"""Backup and restore keep the database and the keys; a restored ledger verifies."""

from __future__ import annotations

import json
import os
import stat
import tarfile

from sqlalchemy import text

from tests.conftest import Runner


def _users(app) -> list[str]:
    with app.extensions["auditor"].engine.connect() as c:
        return [r[0] for r in c.execute(text("SELECT email FROM users ORDER BY email"))]


def test_backup_and_restore_on_both_databases(make_app, db_url, make_user, tmp_path):
    source = make_app(database_url=db_url)
    make_user("dpo@example.org", "legal", key=False, target_app=source)
    make_user("ops@example.org", "admin", key=False, target_app=source)
    archive = tmp_path / "backup.tar.gz"
    r = Runner(source).invoke(["backup", "--out", str(archive), "--json"])
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "keys/ledger_key", "keys/signing_key.pem"} <= names
    assert json.loads(r.output)["dialect"] in ("sqlite", "postgresql")

    if db_url.startswith("sqlite"):
        target = make_app(database_url=f"sqlite:///{tmp_path / 'restored.db'}")
        refused = Runner(target).invoke(["restore", str(archive)])
        assert refused.exit_code == 2 and "not empty" in refused.output
    else:
        target = source
        with source.extensions["auditor"].engine.begin() as c:
            c.execute(text("DELETE FROM users WHERE email = 'ops@example.org'"))
        assert _users(source) == ["dpo@example.org"]
    r = Runner(target).invoke(["restore", str(archive), "--force", "--json"])
    assert r.exit_code == 0, r.output
    assert _users(target) == ["dpo@example.org", "ops@example.org"]
    folder = target.extensions["auditor"].settings.instance_path
    assert (folder / "ledger_key").read_bytes() == (
        source.extensions["auditor"].settings.instance_path / "ledger_key").read_bytes()


def test_restore_rejects_a_file_that_is_not_a_backup(runner, tmp_path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"not a tarball")
    r = runner.invoke(["restore", str(bogus)])
    assert r.exit_code == 2 and "cannot read" in r.output
