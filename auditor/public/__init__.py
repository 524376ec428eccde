"""The ``public`` blueprint: pages for recipients (unsubscribe), no login."""

from __future__ import annotations

from flask import Blueprint, Flask, request

bp = Blueprint("public", __name__, template_folder="templates")

from auditor.public import unsubscribe  # noqa: E402,F401  (registers the routes on bp)


def init_app(app: Flask) -> None:
    """Register the public blueprint; its POSTs are authorised by the signed token, not CSRF."""
    app.register_blueprint(bp)

    @app.before_request
    def _token_is_the_csrf_defence() -> None:
        # RFC 8058 §3.2: mailbox providers POST without cookies or a form token; an attacker
        # cannot forge the POST because the unguessable, signed token is the URL itself.
        csrf = app.extensions.get("csrf")
        if csrf is not None and request.blueprint == bp.name:
            csrf.exempt(bp)
