"""The foundation: config, keys, health, errors, accounts, CLI and the OpenAPI document."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from auditor.accounts.models import ApiKey
from auditor.accounts.services import (
    AccountError,
    authenticate,
    create_key,
    create_user,
    resolve_key,
)
from auditor.config import ConfigError, load_settings, parse_nameservers
from auditor.db import make_engine, session_factory, transaction


def test_instance_keys_are_created_once_with_mode_0600(make_app, tmp_path):
    app = make_app()
    folder = Path(app.instance_path)
    for name in ("secret_key", "ledger_key", "signing_key.pem"):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600
    before = (folder / "signing_key.pem").read_bytes()
    from auditor import create_app

    again = create_app({"instance_path": str(folder)})
    assert (folder / "signing_key.pem").read_bytes() == before
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_healthz_and_readyz(client):
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["database"] == "sqlite"


def test_readyz_reports_unreachable_database_as_problem(make_app, tmp_path):
    app = make_app()
    app.extensions["auditor"].engine.dispose()
    app.extensions["auditor"].engine = make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.mimetype == "application/problem+json"


def test_unknown_api_path_is_problem_json(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    assert r.json["status"] == 404 and r.json["title"] == "Not Found"


@pytest.mark.parametrize(
    ("env", "setting"),
    [({"dns_timeout": "soon"}, "AUDITOR_DNS_TIMEOUT"),
     ({"database_url": "mysql://x"}, "AUDITOR_DATABASE_URL"),
     ({"dns_nameservers": "127.0.0.1:99999"}, "AUDITOR_DNS_NAMESERVERS"),
     ({"public_url": "ftp://x"}, "AUDITOR_PUBLIC_URL")],
)
def test_bad_setting_names_the_setting(env, setting):
    with pytest.raises(ConfigError, match=setting):
        load_settings(env)


def test_nameservers_accept_ip_and_port():
    assert parse_nameservers("127.0.0.1:5353, 10.0.0.1,[::1]:53") == [
        ("127.0.0.1", 5353), ("10.0.0.1", 53), ("::1", 53)]


def test_cli_bad_configuration_is_one_line_and_exit_2(tmp_path):
    env = {**os.environ, "AUDITOR_INSTANCE_PATH": str(tmp_path), "AUDITOR_DATABASE_URL":
           "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    p = subprocess.run([sys.executable, "-m", "auditor", "db", "upgrade"], env=env, capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "AUDITOR_DATABASE_URL" in p.stderr
    env["AUDITOR_DATABASE_URL"] = ""
    env["AUDITOR_DNS_TIMEOUT"] = "-1"
    p = subprocess.run([sys.executable, "-m", "auditor", "db", "upgrade"], env=env, capture_output=True, text=True)
    assert p.returncode == 2 and "AUDITOR_DNS_TIMEOUT" in p.stderr and "Traceback" not in p.stderr


def test_help_lists_command_groups(runner):
    r = runner.invoke(["--help"])
    assert r.exit_code == 0
    for group in ("serve", "db", "users", "keys"):
        assert group in r.output


def test_users_and_keys_cli(runner, app):
    r = runner.invoke(["users", "create", "Boss@Example.ORG", "--role", "admin", "--password-stdin", "--json"],
                      input="correct horse battery\n")
    assert r.exit_code == 0, r.output
    assert '"email": "boss@example.org"' in r.output
    r = runner.invoke(["keys", "create", "crm", "--user", "boss@example.org", "--scopes", "gate:check", "--json"])
    assert r.exit_code == 0
    import json

    created = json.loads(r.output)
    assert created["key"].startswith("aud_")
    listed = runner.invoke(["keys", "list", "--json"]).output
    assert created["key"] not in listed and created["key"][:10] in listed
    with app.extensions["auditor"].sessions() as s:
        row = s.scalar(select(ApiKey))
        assert row.key_hash != created["key"] and len(row.key_hash) == 64
    assert runner.invoke(["keys", "revoke", str(created["id"])]).exit_code == 0
    with app.extensions["auditor"].sessions() as s:
        assert resolve_key(s, created["key"]) is None
    bad = runner.invoke(["users", "create", "x@example.org", "--role", "sender", "--password-stdin"], input="short\n")
    assert bad.exit_code == 2 and "at least 10" in bad.output


def test_accounts_on_both_databases(db_url):
    engine = make_engine(db_url)
    factory = session_factory(engine)
    with transaction(factory) as s:
        user = create_user(s, "legal@example.org", "legal", "a long enough secret")
        key, clear = create_key(s, user, "reviewer", ["campaign:read"])
    with factory() as s:
        assert authenticate(s, "LEGAL@example.org", "a long enough secret").id == user.id
        assert authenticate(s, "legal@example.org", "wrong password!!") is None
        principal = resolve_key(s, clear)
        assert principal and principal.scopes == {"campaign:read"} and principal.role == "legal"
        assert s.get(ApiKey, key.id).last_used_at is not None
        assert resolve_key(s, clear + "x") is None
    with transaction(factory) as s, pytest.raises(AccountError, match="cannot hold"):
        create_key(s, s.get(type(user), user.id), "too much", ["gate:check"])
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM users")).scalar() == 1
    engine.dispose()


def test_api_requires_key_and_scope(client, make_user):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200 and r.json["openapi"].startswith("3.1")
    r = client.get("/api/docs")
    assert r.status_code == 200 and b"Auditor API" in r.data


def test_commands_are_reachable_through_flask_cli(tmp_path):
    env = {**os.environ, "AUDITOR_INSTANCE_PATH": str(tmp_path)}
    env.pop("AUDITOR_DATABASE_URL", None)
    flask = Path(sys.executable).with_name("flask")
    p = subprocess.run([str(flask), "--app", "wsgi", "db", "upgrade"], env=env, capture_output=True, text=True,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "database at revision" in p.stdout
    assert (tmp_path / "auditor.db").exists()


def test_ids_beyond_64_bits_are_no_route_not_a_crash(client, make_user):
    _, key = make_user("admin@auditor.test", "admin", scopes=["campaign:read", "domain:write"])
    h = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/campaigns/{2**63 - 1}", headers=h).status_code == 404
    r = client.get(f"/api/v1/campaigns/{2**63}", headers=h)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.delete("/api/v1/monitoring/assets/99999999999999999999999", headers=h)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
