"""Administration: user accounts and API keys (a created key is shown once)."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from auditor.accounts.models import ROLES, ApiKey, User
from auditor.accounts.services import (
    ALL_SCOPES,
    DEFAULT_KEY_SCOPES,
    ROLE_SCOPES,
    AccountError,
    create_key,
    create_user,
    record,
    revoke_key,
)
from auditor.auth import current_principal, requires_role
from auditor.services import db
from auditor.ui import bp
from auditor.ui.access import ADMINS


def _users() -> list[User]:
    return list(db().scalars(select(User).order_by(User.email)))


@bp.route("/admin/users", methods=["GET", "POST"])
@requires_role(*ADMINS)
def admin_users() -> str | Response | tuple[str, int]:
    """List accounts; create one (email, role, initial password)."""
    if request.method == "POST":
        s = db()
        try:
            user = create_user(s, request.form.get("email", ""), request.form.get("role", ""),
                               request.form.get("password", ""))
        except AccountError as exc:
            s.rollback()
            flash(str(exc), "danger")
            return render_template("ui/admin_users.html", users=_users(), roles=ROLES), 400
        record(s, current_principal().actor, "user.create", f"user:{user.id}", email=user.email, role=user.role)
        s.commit()
        flash(_("User %(email)s created.", email=user.email), "success")
        return redirect(url_for("ui.admin_users"))
    return render_template("ui/admin_users.html", users=_users(), roles=ROLES)


@bp.post("/admin/users/<int:user_id>/active")
@requires_role(*ADMINS)
def admin_user_active(user_id: int) -> Response:
    """Deactivate or reactivate an account (never one's own)."""
    principal = current_principal()
    s = db()
    user = s.get(User, user_id) or abort(404)
    if user.id == principal.user_id:
        flash(_("You cannot deactivate your own account."), "danger")
        return redirect(url_for("ui.admin_users"))
    user.active = request.form.get("active") == "1"
    record(s, principal.actor, "user.activate" if user.active else "user.deactivate", f"user:{user.id}",
           email=user.email)
    s.commit()
    return redirect(url_for("ui.admin_users"))


def _keys_page(status: int = 200, created: tuple[ApiKey, str] | None = None) -> Response:
    keys = list(db().scalars(select(ApiKey).order_by(ApiKey.id.desc())))
    users = [u for u in _users() if u.active]
    html = render_template("ui/admin_keys.html", keys=keys, users=users, all_scopes=ALL_SCOPES,
                           default_scopes=DEFAULT_KEY_SCOPES, role_scopes=ROLE_SCOPES, created=created)
    resp = make_response(html, status)
    if created:
        resp.headers["Cache-Control"] = "no-store"  # the clear key must not stay in any cache
    return resp


@bp.route("/admin/keys", methods=["GET", "POST"])
@requires_role(*ADMINS)
def admin_keys() -> Response:
    """List keys; create one for a user with scopes (its clear value shown on this answer only)."""
    if request.method == "GET":
        return _keys_page()
    s = db()
    user = s.get(User, request.form.get("user_id", type=int) or 0)
    if user is None:
        flash(_("Choose a user."), "danger")
        return _keys_page(400)
    try:
        key, clear = create_key(s, user, request.form.get("name", ""), request.form.getlist("scopes") or None)
    except AccountError as exc:
        s.rollback()
        flash(str(exc), "danger")
        return _keys_page(400)
    record(s, current_principal().actor, "key.create", f"key:{key.id}", name=key.name, user=user.email,
           scopes=key.scopes)
    s.commit()
    return _keys_page(201, created=(key, clear))


@bp.post("/admin/keys/<int:key_id>/revoke")
@requires_role(*ADMINS)
def admin_key_revoke(key_id: int) -> Response:
    """Revoke a key."""
    s = db()
    try:
        key = revoke_key(s, key_id)
    except AccountError:
        abort(404)
    record(s, current_principal().actor, "key.revoke", f"key:{key.id}", name=key.name)
    s.commit()
    flash(_("Key %(name)s revoked.", name=key.name), "success")
    return redirect(url_for("ui.admin_keys"))
