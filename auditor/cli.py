"""The ``auditor`` command line (also reachable as ``flask --app wsgi ...``)."""

from __future__ import annotations

import json
import sys
from importlib import import_module
from typing import Any, NoReturn

import click
from flask import Flask, current_app, has_app_context

from auditor.config import ConfigError

# Modules that each define ``commands``: a list of Click commands or groups to add.
COMMAND_MODULES = (
    "auditor.ledger.cli",
    "auditor.monitoring.cli",
    "auditor.checking.cli",
    "auditor.checking.message_cli",
    "auditor.campaigns.cli",
    "auditor.reports.cli",
    "auditor.backup",
    "auditor.integrations.cli",
    "auditor.dmarc.cli",
    "auditor.delivery.cli",
)


class CliError(click.ClickException):
    """Bad usage or input: one line on stderr, exit 2."""

    exit_code = 2


def fail(message: str) -> NoReturn:
    """Stop the command with a one-line reason and exit 2."""
    raise CliError(message)


def emit(data: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


_app: Flask | None = None


def get_app() -> Flask:
    """The current Flask app, or one built from the environment (once per process)."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from auditor import create_app

        _app = create_app()
        _app.app_context().push()
    return _app


def migrate(app: Flask) -> None:
    """Apply migrations; an unreachable database is a one-line configuration error."""
    from sqlalchemy.exc import DBAPIError

    from auditor.migrations import upgrade
    from auditor.services import services

    try:
        upgrade(services(app).engine)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ConfigError(f"AUDITOR_DATABASE_URL: cannot use the database: {reason}") from None


class AuditorGroup(click.Group):
    """A group whose errors are one line on stderr with exit 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D401 - click signature
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("auditor: aborted", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"auditor: {exc.format_message()}".splitlines()[0], err=True)
            sys.exit(exc.exit_code if exc.exit_code != 1 else 2)
        except ConfigError as exc:
            click.echo(f"auditor: configuration error: {exc}", err=True)
            sys.exit(2)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=AuditorGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Auditor: consent ledger, DNS and blocklist checks, campaign audits and the send gate."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="threads per worker")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="processes; more than one runs gunicorn, one runs waitress")
def serve(host: str, port: int, threads: int, workers: int) -> None:
    """Run the web UI and API (creates or migrates the database first)."""
    app = get_app()
    migrate(app)
    dialect = app.extensions["auditor"].engine.dialect.name
    click.echo(f"Auditor listening on http://{host}:{port} ({dialect}, {workers} worker(s))", err=True)
    if workers == 1:
        from auditor.errors import waitress_server

        waitress_server(app, host, port, threads).run()
        return
    app.extensions["auditor"].engine.dispose()
    _gunicorn(host, port, threads, workers)


def _gunicorn(host: str, port: int, threads: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            for k, v in {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                         "worker_class": "gthread", "timeout": 60, "graceful_timeout": 10,
                         "accesslog": None, "errorlog": "-", "loglevel": "warning"}.items():
                self.cfg.set(k, v)

        def load(self):  # each worker builds its own app, engine and pool after the fork
            from auditor import create_app

            return create_app()

    _Server().run()


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations."""
    from auditor.migrations import current

    app = get_app()
    migrate(app)
    click.echo(f"database at revision {current(app.extensions['auditor'].engine)}")


@cli.group("users")
def users_group() -> None:
    """User accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "legal", "security", "sender"]))
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--json", "as_json", is_flag=True)
def users_create(email: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Create a user (prompts for the password unless --password-stdin)."""
    from auditor.accounts.services import AccountError, create_user, record
    from auditor.db import transaction
    from auditor.services import services

    app = get_app()
    migrate(app)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with transaction(services(app).sessions) as s:
            user = create_user(s, email, role, password)
            record(s, "cli", "user.create", user.email, role=role)
    except AccountError as exc:
        fail(str(exc))
    if as_json:
        emit({"id": user.id, "email": user.email, "role": user.role})
    else:
        click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    """List users."""
    from sqlalchemy import select

    from auditor.accounts.models import User
    from auditor.services import services

    app = get_app()
    with services(app).sessions() as s:
        rows = [{"id": u.id, "email": u.email, "role": u.role, "active": u.active}
                for u in s.scalars(select(User).order_by(User.id))]
    if as_json:
        emit(rows)
    else:
        for r in rows:
            click.echo(f"{r['id']:>4}  {r['role']:<8}  {r['email']}{'' if r['active'] else '  (disabled)'}")


@cli.group("keys")
def keys_group() -> None:
    """API keys."""


@keys_group.command("create")
@click.argument("name")
@click.option("--user", "email", required=True, help="the user the key acts as")
@click.option("--scopes", default="consent:write,campaign:submit,gate:check", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def keys_create(name: str, email: str, scopes: str, as_json: bool) -> None:
    """Create an API key; the key is printed once and never again."""
    from sqlalchemy import select

    from auditor.accounts.models import User
    from auditor.accounts.services import AccountError, create_key, normalise_email, record
    from auditor.db import transaction
    from auditor.services import services

    app = get_app()
    migrate(app)
    try:
        with transaction(services(app).sessions) as s:
            user = s.scalar(select(User).where(User.email == normalise_email(email)))
            if user is None:
                fail(f"no user {email}")
            key, clear = create_key(s, user, name, [x.strip() for x in scopes.split(",") if x.strip()])
            record(s, "cli", "key.create", f"key:{key.id}", name=name, user=user.email, scopes=key.scopes)
    except AccountError as exc:
        fail(str(exc))
    if as_json:
        emit({"id": key.id, "name": key.name, "key": clear, "scopes": sorted(key.scope_set)})
    else:
        click.echo(f"key {key.id} '{key.name}' for {email} ({key.scopes}):\n{clear}\nStore it now: it is not shown again.")


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def keys_list(as_json: bool) -> None:
    """List keys (never the keys themselves)."""
    from sqlalchemy import select

    from auditor.accounts.models import ApiKey
    from auditor.services import services

    app = get_app()
    with services(app).sessions() as s:
        rows = [{"id": k.id, "name": k.name, "user": k.user.email, "prefix": k.prefix, "scopes": k.scopes,
                 "created_at": k.created_at, "last_used_at": k.last_used_at, "revoked": k.revoked_at is not None}
                for k in s.scalars(select(ApiKey).order_by(ApiKey.id))]
    if as_json:
        emit(rows)
    else:
        for r in rows:
            state = "revoked" if r["revoked"] else f"last used {r['last_used_at'] or 'never'}"
            click.echo(f"{r['id']:>4}  {r['prefix']}…  {r['name']}  {r['user']}  [{r['scopes']}]  {state}")


@keys_group.command("revoke")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    """Revoke a key by id."""
    from auditor.accounts.services import AccountError, record, revoke_key
    from auditor.db import transaction
    from auditor.services import services

    app = get_app()
    try:
        with transaction(services(app).sessions) as s:
            revoke_key(s, key_id)
            record(s, "cli", "key.revoke", f"key:{key_id}")
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"key {key_id} revoked")


def _add_module_commands(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        try:
            mod = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        for cmd in getattr(mod, "commands", []):
            group.add_command(cmd)


_add_module_commands(cli)


def register_flask_commands(app: Flask) -> None:
    """Make every ``auditor`` command reachable as ``flask --app wsgi <command>``."""
    for name, cmd in cli.commands.items():
        app.cli.add_command(cmd, name)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="auditor")
