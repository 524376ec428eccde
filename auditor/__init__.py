"""Auditor: the service (app factory, config, models, workflow, API, UI, CLI, jobs)."""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module
from typing import Any

from flask import Flask, Response, json
from werkzeug.routing import IntegerConverter

from auditor.config import load_settings

# Areas whose modules register routes on the shared blueprints when imported.
ROUTE_MODULES = (
    "auditor.health",
    "auditor.accounts.api",
    "auditor.ledger.api",
    "auditor.monitoring.api",
    "auditor.campaigns.api",
    "auditor.gate.api",
    "auditor.messages.api",
    "auditor.dmarc.api",
    "auditor.public",
    "auditor.ui.integrations",  # adds routes to the ui blueprint: before it is registered
    "auditor.ui.delivery",  # the same
    "auditor.ui",
    "auditor.reports.views",
    "auditor.integrations.api",
    "auditor.integrations.hooks",
    "auditor.delivery.api",
)


class _RowId(IntegerConverter):
    """``<int:...>`` limited to what a BIGINT column holds: a larger number is no route (404), not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides settings (``AUDITOR_*`` names or field names)."""
    from auditor import errors, instance
    from auditor.db import make_engine, session_factory
    from auditor.services import Services, close_db

    settings = load_settings(config)
    folder = settings.instance_path
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    app = Flask(__name__, instance_path=str(folder), instance_relative_config=True)
    app.url_map.converters["int"] = _RowId  # ids in paths fit a 64-bit column, or the route is a 404
    secret = settings.secret_key or instance.secret_key(folder)
    app.config.update(
        SECRET_KEY=secret,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        JSON_SORT_KEYS=False,
    )
    for k, v in (config or {}).items():
        if k.isupper() and not k.startswith("AUDITOR_"):
            app.config[k] = v
    if settings.trusted_proxies:
        # Behind N proxies, the client's address (login limits, audit log) is the one they add.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    url = settings.database_url or f"sqlite:///{folder / 'auditor.db'}"
    ledger_key = bytes.fromhex(settings.ledger_key) if settings.ledger_key else instance.ledger_key(folder)
    signing_pem = settings.signing_key or instance.signing_key_pem(folder)
    engine = make_engine(url)
    app.extensions["auditor"] = Services(
        settings=settings, engine=engine, sessions=session_factory(engine), secret_key=secret,
        ledger_key=ledger_key, signing_key=instance.load_signing_key(signing_pem),
    )
    from auditor import logs

    logs.install(settings.log_level)
    logging.getLogger("auditor").setLevel(settings.log_level)
    app.teardown_appcontext(close_db)
    errors.init_app(app)
    from auditor import ratelimit

    ratelimit.init_app(app, settings)

    for name in ROUTE_MODULES:
        mod = import_module(name)
        if hasattr(mod, "init_app"):
            mod.init_app(app)
    from auditor.api import bp as api_bp
    from auditor.api import openapi_document

    app.register_blueprint(api_bp)

    @app.get("/api/openapi.json")
    def openapi_json() -> Response:
        return Response(json.dumps(openapi_document()), mimetype="application/json")

    from auditor.api import docs

    docs.init_app(app)

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-src 'self' data: blob:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp

    from auditor.cli import register_flask_commands

    register_flask_commands(app)
    return app
