"""Shared fixtures: app, client, runner, storage on SQLite and PostgreSQL, loopback DNS, Redis."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from auditor import create_app
from auditor.db import make_engine
from auditor.migrations import upgrade
from checks.resolver import make_resolver
from checks.zone_server import ZoneServer

PG_ADMIN_URL = os.environ.get("AUDITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AUDITOR_TEST_REDIS", "redis://127.0.0.1:6379/15")
ADMIN_PASSWORD = "admin-password-1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tag tests that use PostgreSQL or Redis so they can be selected by marker."""
    for item in items:
        params = getattr(item, "callspec", None)
        if params and params.params.get("db_url") == "postgres" or "pg_url" in item.fixturenames:
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in item.fixturenames:
            item.add_marker(pytest.mark.redis)


# --- PostgreSQL -----------------------------------------------------------------------------

def _pg_admin():
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any driver error means the server is down
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({type(exc).__name__}: {exc}); "
                    "start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
                    pytrace=False)
    return engine


def _url_for(db: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database for this test session (dropped afterwards)."""
    admin = _pg_admin()
    name = f"auditor_tmpl_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_url_for(name), poolclass=__import__("sqlalchemy.pool").pool.NullPool)
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (cloned from the template)."""
    admin = _pg_admin()
    name = f"auditor_t_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield _url_for(name)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite database for one test."""
    url = f"sqlite:///{tmp_path / 'auditor.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a storage test on SQLite and on PostgreSQL; a fresh migrated database each time."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


# --- the app --------------------------------------------------------------------------------

@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., object]:
    """Build an app on a fresh instance folder; keyword overrides are settings."""
    built = []

    def factory(**overrides):
        folder = tmp_path / f"instance{len(built)}"
        cfg = {"instance_path": str(folder), "TESTING": True, "WTF_CSRF_ENABLED": False}
        cfg.update(overrides)
        app = create_app(cfg)
        upgrade(app.extensions["auditor"].engine)
        built.append(app)
        return app

    yield factory
    for app in built:
        app.extensions["auditor"].engine.dispose()


@pytest.fixture
def app(make_app):
    """The app on SQLite in a temporary instance folder, migrated."""
    return make_app()


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()


class Runner:
    """Invoke ``auditor`` commands against the test app, as a user would type them."""

    def __init__(self, app) -> None:
        self.app = app

    def invoke(self, args: list[str], input: str | None = None) -> Result:
        from auditor.cli import cli

        with self.app.app_context():
            return CliRunner().invoke(cli, args, input=input, catch_exceptions=False)


@pytest.fixture
def runner(app) -> Runner:
    """The CLI bound to ``app``."""
    return Runner(app)


@pytest.fixture
def make_user(app):
    """Create a user (and optionally an API key); returns (user_id, clear_key or None)."""
    from auditor.accounts.services import create_key, create_user
    from auditor.db import transaction

    def factory(email: str, role: str, *, password: str = ADMIN_PASSWORD, scopes: list[str] | None = None,
                key: bool = True, target_app=None):
        target = target_app or app
        with transaction(target.extensions["auditor"].sessions) as s:
            user = create_user(s, email, role, password)
            clear = create_key(s, user, f"{email} key", scopes)[1] if key else None
        return user.id, clear

    return factory


# --- DNS ------------------------------------------------------------------------------------

@pytest.fixture
def dns_server() -> Iterator[Callable[..., ZoneServer]]:
    """Start loopback authoritative DNS servers for zone text; stopped after the test."""
    servers: list[ZoneServer] = []

    def serve(zone_text: str, origin: str | None = None, **kw) -> ZoneServer:
        server = ZoneServer(zone_text, origin, **kw).start()
        servers.append(server)
        return server

    yield serve
    for s in servers:
        s.stop()


@pytest.fixture
def resolver_for():
    """A resolver pointed at a ZoneServer."""

    def build(server: ZoneServer, timeout: float = 1.0):
        return make_resolver([(server.address, server.port)], timeout)

    return build


# --- Redis ----------------------------------------------------------------------------------

@pytest.fixture
def redis_url() -> str:
    """The local Redis (db 15, flushed); fails with a clear message when it is down."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); start it with "
                    "redis-server --daemonize yes --bind 127.0.0.1 --port 6379", pytrace=False)
    client.flushdb()
    return REDIS_URL


# --- measured figures -----------------------------------------------------------------------

FIGURES = Path(__file__).resolve().parents[1] / "test-output" / "figures"


@pytest.fixture
def figures(request: pytest.FixtureRequest):
    """Write a test's measured figures to test-output/figures/<test>.json (read for the issue notes)."""

    def write(data: dict) -> None:
        FIGURES.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
        (FIGURES / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))

    return write
