"""The ``ui`` blueprint: the reviewers' web UI (session login, server-rendered pages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, request, session
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/ui")

LANGUAGES = ("ru", "en")
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    """The user's choice (session), else the browser's best match of ru/en, else English."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def _context() -> dict[str, Any]:
    from auditor.auth import current_principal
    from auditor.ui.access import can
    from auditor.ui.findings import pack_label
    from checks.i18n import evidence_label, format_when, lang_of

    principal = current_principal()
    lang = lang_of(select_locale())
    return {"principal": principal, "can": lambda page: can(principal, page), "lang": select_locale(),
            "view_names": current_app.view_functions, "pack_label": pack_label,
            "ev_key": lambda key: evidence_label(key, lang), "when_text": lambda v: format_when(v, lang)}


def init_app(app: Flask) -> None:
    """Register the UI: CSRF for forms, Babel, Bootstrap served locally, the blueprint."""
    from auditor.ui import compile as _compile

    _compile.ensure_catalogues(TRANSLATIONS)
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    csrf = app.extensions.get("csrf") or CSRFProtect(app)
    # The JSON API authenticates with Bearer keys (session cookies only on safe methods) and the
    # public one-click endpoint is authorised by its signed token (RFC 8058 §3.2): no form tokens.
    from auditor.api import bp as api_bp
    from auditor.public import bp as public_bp

    csrf.exempt(api_bp)
    csrf.exempt(public_bp)
    Babel(app, locale_selector=select_locale)
    Bootstrap5(app)
    app.register_blueprint(bp)


bp.context_processor(_context)

from auditor.ui import admin, auth, campaigns, domains, home, ledger  # noqa: E402,F401
