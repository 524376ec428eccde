"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from auditor.db import ping
from auditor.errors import problem
from auditor.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database answers."""
    try:
        ping(services().engine)
    except Exception as exc:  # any driver error means not ready
        return problem(503, "Service Unavailable", f"database not reachable: {type(exc).__name__}")
    return jsonify(status="ready", database=services().engine.dialect.name)


def init_app(app: Flask) -> None:
    """Register the health routes."""
    app.register_blueprint(bp)
