"""Backup and restore keep the database and the sealed keys; a restored ledger verifies, or says why not."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tarfile

import pytest
from sqlalchemy import text

from tests.conftest import Runner

PASS = "correct horse battery staple"
EVENT = {"type": "granted", "subject": "kept@example.org", "channel": "email", "purpose": "marketing",
         "jurisdiction": "RU", "legal_basis": "consent", "method": "web_form",
         "evidence": {"source_url": "https://shop.example/f", "ip": "192.0.2.7", "notice_version": "v1",
                      "notice_sha256": "c" * 64, "separate_document": True, "pre_ticked": False},
         "claimed_at": "2026-11-01T10:00:00+03:00"}


def _users(app) -> list[str]:
    with app.extensions["auditor"].engine.connect() as c:
        return [r[0] for r in c.execute(text("SELECT email FROM users ORDER BY email"))]


def _source(make_app, make_user, db_url):
    """An instance with two users, three ledger events and a signed checkpoint."""
    from auditor.ledger.services import get_ledger

    source = make_app(database_url=db_url)
    make_user("dpo@example.org", "legal", key=False, target_app=source)
    make_user("ops@example.org", "admin", key=False, target_app=source)
    ledger = get_ledger(source)

    client = source.test_client()
    key = make_user("crm@example.org", "sender", scopes=["consent:write"], target_app=source)[1]
    for i in range(3):
        r = client.post("/api/v1/consents", json={**EVENT, "subject": f"s{i}@example.org"},
                        headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 201, r.json
    ledger.checkpoint()
    return source


def _fresh_target(make_app, db_url, tmp_path):
    if db_url.startswith("sqlite"):
        return make_app(database_url=f"sqlite:///{tmp_path / 'restored.db'}")
    from tests.conftest import _pg_admin, _url_for

    name = "auditor_restore_" + os.urandom(4).hex()
    with _pg_admin().connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return make_app(database_url=_url_for(name))


def test_backup_seals_the_keys_and_restores_into_a_fresh_instance(make_app, db_url, make_user, tmp_path):
    source = _source(make_app, make_user, db_url)
    archive = tmp_path / "backup.tar.gz"
    archive.write_bytes(b"an older file")
    archive.chmod(0o644)
    r = Runner(source).invoke(["backup", "--out", str(archive), "--passphrase-stdin", "--json"], input=PASS + "\n")
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600  # even over a 0644 file
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        sealed = tar.extractfile("keys.sealed").read()
    assert {"manifest.json", "keys.sealed"} <= names and not any(n.startswith("keys/") for n in names)
    folder = source.extensions["auditor"].settings.instance_path
    for name in ("ledger_key", "secret_key"):
        assert (folder / name).read_bytes().strip() not in sealed
    assert json.loads(r.output)["keys"] == "sealed"

    target = _fresh_target(make_app, db_url, tmp_path)
    wrong = Runner(target).invoke(["restore", str(archive), "--passphrase-stdin"], input="not the passphrase\n")
    assert wrong.exit_code == 2 and "wrong passphrase" in wrong.output
    assert _users(target) == []  # refused before anything was touched
    r = Runner(target).invoke(["restore", str(archive), "--passphrase-stdin", "--json"], input=PASS + "\n")
    assert r.exit_code == 0, r.output  # no --force: the fresh instance had nothing to lose
    result = json.loads(r.output)
    assert result["ok"] is True and result["verify_ok"] is True and result["checkpoint_matches"] is True
    assert result["causes"] == [] and result["ledger_size"] == 3
    assert _users(target) == ["crm@example.org", "dpo@example.org", "ops@example.org"]
    tfolder = target.extensions["auditor"].settings.instance_path
    for name in ("ledger_key", "signing_key.pem", "secret_key"):
        assert (tfolder / name).read_bytes() == (folder / name).read_bytes()
        assert stat.S_IMODE(os.stat(tfolder / name).st_mode) == 0o600
    # ``ledger verify`` afterwards agrees with the restore's verdict.
    v = Runner(target).invoke(["ledger", "verify", "--json"])
    assert v.exit_code == 0 and json.loads(v.output)["ok"] is True
    # Now the target holds data: a second restore needs --force.
    again = Runner(target).invoke(["restore", str(archive), "--passphrase-stdin"], input=PASS + "\n")
    assert again.exit_code == 2 and "--force" in again.output


def test_restore_without_the_keys_names_the_missing_key(make_app, db_url, make_user, tmp_path):
    source = _source(make_app, make_user, db_url)
    archive = tmp_path / "nokeys.tar.gz"
    r = Runner(source).invoke(["backup", "--out", str(archive), "--without-keys"])
    assert r.exit_code == 0, r.output
    with tarfile.open(archive) as tar:
        assert "keys.sealed" not in tar.getnames()
    target = _fresh_target(make_app, db_url, tmp_path)
    r = Runner(target).invoke(["restore", str(archive), "--json"])
    assert r.exit_code == 1
    result = json.loads(r.output)
    assert result["ok"] is False
    assert any(c.startswith("missing key: this instance's ledger key") for c in result["causes"])
    assert any("checkpoints were signed by key" in c for c in result["causes"])


def test_a_tampered_ledger_names_the_first_bad_seq(make_app, make_user, tmp_path, sqlite_url):
    source = _source(make_app, make_user, sqlite_url)
    from tests.consent_ledger.conftest import Intruder

    Intruder(source.extensions["auditor"].engine).run(
        "UPDATE ledger_events SET event = replace(event, 'granted', 'withdrawn') WHERE seq = 2")
    archive = tmp_path / "b.tar.gz"
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASS + "\n")
    assert Runner(source).invoke(["backup", "--out", str(archive), "--passphrase-file", str(passfile)]).exit_code == 0
    target = make_app(database_url=f"sqlite:///{tmp_path / 'restored.db'}")
    r = Runner(target).invoke(["restore", str(archive), "--passphrase-file", str(passfile)])
    assert r.exit_code == 1
    assert "first bad seq 2" in r.output


@pytest.mark.parametrize(("args", "message"), [
    (["--out", "{tmp}/missing/b.tar.gz", "--without-keys"], "does not exist"),
    (["--out", "{tmp}", "--without-keys"], "is a folder"),
    (["--out", "{tmp}/b.tar.gz"], "--without-keys"),
    (["--out", "{tmp}/b.tar.gz", "--passphrase-stdin"], "shorter than 8"),
])
def test_backup_usage_errors_are_one_line(runner, tmp_path, args, message):
    r = runner.invoke(["backup", *[a.format(tmp=tmp_path) for a in args]], input="short\n")
    assert r.exit_code == 2 and message in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_pg_dump_gets_the_password_through_its_environment(make_app, pg_url, tmp_path, monkeypatch):
    # Trust authentication ignores the password, so a made-up one still connects.
    url = pg_url.replace("postgres@", "postgres:s3cret-pw@")
    app = make_app(database_url=url)
    seen = []
    real = subprocess.run

    def spy(argv, **kw):
        seen.append((argv, kw.get("env") or {}))
        return real(argv, **kw)

    monkeypatch.setattr(subprocess, "run", spy)
    r = Runner(app).invoke(["backup", "--out", str(tmp_path / "pg.tar.gz"), "--without-keys"])
    assert r.exit_code == 0, r.output
    argv, env = seen[0]
    assert argv[0] == "pg_dump" and not any("s3cret-pw" in a for a in argv)
    assert env["PGPASSWORD"] == "s3cret-pw"


def test_restore_rejects_a_file_that_is_not_a_backup(runner, tmp_path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"not a tarball")
    r = runner.invoke(["restore", str(bogus)])
    assert r.exit_code == 2 and "cannot read" in r.output
