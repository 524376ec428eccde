"""Login, logout, password change and the language switch."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from auditor.accounts.models import User
from auditor.accounts.services import AccountError, authenticate, record, set_password
from auditor.auth import current_principal, login_session, requires_role
from auditor.db import begin_write
from auditor.ratelimit import login_failed, login_retry_after, login_succeeded
from auditor.services import db
from auditor.ui import LANGUAGES, bp
from auditor.ui.access import EVERYONE


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no '//') may be a redirect target."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target.rstrip("?") or "/"
    return url_for("ui.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The login form; on success a fresh session bound to the password."""
    if request.method == "GET":
        if current_principal() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("ui/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip()
    wait = login_retry_after(db(), email, request.remote_addr)
    if wait:
        flash(_("Too many failed logins. Try again in %(minutes)s min.", minutes=(wait + 59) // 60), "danger")
        page = render_template("ui/login.html", next=request.form.get("next", ""), email=email)
        return page, 429, {"Retry-After": str(wait)}
    user = authenticate(db(), email, request.form.get("password", ""))
    if user is None:
        db().rollback()  # end the read; the count is written in a transaction of its own
        begin_write(db())
        login_failed(db(), email, request.remote_addr)
        db().commit()
        flash(_("Wrong email or password."), "danger")
        return render_template("ui/login.html", next=request.form.get("next", ""), email=email), 401
    login_succeeded(db(), email)  # committed with the audit entry below
    lang = session.get("lang")
    login_session(user)
    if lang:
        session["lang"] = lang
    record(db(), f"user:{user.email}", "user.login", f"user:{user.id}")
    db().commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> str | Response:
    """POST ends the session (GET shows the button, so a link cannot log anyone out)."""
    if request.method == "GET":
        return render_template("ui/logout.html")
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are logged out."), "info")
    return redirect(url_for("ui.login"))


@bp.route("/password", methods=["GET", "POST"])
@requires_role(*EVERYONE)
def password() -> str | Response | tuple[str, int]:
    """Change one's own password (the session is renewed; other sessions end)."""
    if request.method == "GET":
        return render_template("ui/password.html")
    principal = current_principal()
    user = db().get(User, principal.user_id)
    if authenticate(db(), user.email, request.form.get("current", "")) is None:
        flash(_("The current password is wrong."), "danger")
        return render_template("ui/password.html"), 400
    new = request.form.get("new", "")
    if new != request.form.get("confirm", ""):
        flash(_("The new passwords differ."), "danger")
        return render_template("ui/password.html"), 400
    try:
        set_password(db(), user, new)
    except AccountError:
        flash(_("The password needs at least 10 characters."), "danger")
        return render_template("ui/password.html"), 400
    record(db(), principal.actor, "user.password", f"user:{user.id}")
    db().commit()
    lang = session.get("lang")
    login_session(user)
    if lang:
        session["lang"] = lang
    flash(_("Password changed."), "success")
    return redirect(url_for("ui.dashboard"))


@bp.post("/lang")
def language() -> Response:
    """Store the chosen interface language in the session."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


@bp.errorhandler(403)
def forbidden(_exc: Exception) -> tuple[str, int]:
    """A readable refusal."""
    return render_template("ui/error.html", code=403, message=_("Your role cannot open this page.")), 403


@bp.errorhandler(404)
def not_found(_exc: Exception) -> tuple[str, int]:
    """A readable 404."""
    return render_template("ui/error.html", code=404, message=_("Nothing here.")), 404


@bp.errorhandler(CSRFError)
def csrf_failed(_exc: CSRFError) -> tuple[str, int]:
    """The form's token was missing or stale."""
    return render_template("ui/error.html", code=400,
                           message=_("The form expired or was not sent from this site. Reload and try again.")), 400
