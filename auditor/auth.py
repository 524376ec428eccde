"""Who is calling, and the route-level declarations of who may: ``requires_scope``, ``requires_role``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for

from auditor.accounts.models import User
from auditor.accounts.services import Principal, principal_for_user, resolve_key
from auditor.errors import ApiError
from auditor.services import db


def _from_session() -> Principal | None:
    uid = session.get("user_id")
    if uid is None:
        return None
    user = db().get(User, uid)
    if user is None or not user.active or session.get("pw") != (user.password_hash or "")[-16:]:
        session.clear()
        return None
    return principal_for_user(user)


def current_principal(allow_session: bool = True) -> Principal | None:
    """The caller: a Bearer API key, else (when allowed) the logged-in session user."""
    if "principal" in g:
        return g.principal
    principal = None
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        principal = resolve_key(db(), header[7:].strip())
        if principal is None:
            raise ApiError(401, "Unauthorized", "the API key is unknown or revoked",
                           headers={"WWW-Authenticate": 'Bearer realm="auditor"'})
    elif allow_session:
        principal = _from_session()
    g.principal = principal
    return principal


def check_scope(scope: str | None) -> Principal | None:
    """Enforce ``scope`` for an API call; session cookies count only on safe methods (no CSRF)."""
    principal = current_principal(allow_session=request.method in ("GET", "HEAD"))
    if scope is None:
        return principal
    if principal is None:
        raise ApiError(401, "Unauthorized", "send 'Authorization: Bearer <api key>'",
                       headers={"WWW-Authenticate": 'Bearer realm="auditor"'})
    if scope not in principal.scopes:
        raise ApiError(403, "Forbidden", f"this call needs the scope {scope!r}")
    return principal


def requires_scope(scope: str) -> Callable:
    """Declare at the route that an API call needs ``scope``."""

    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*a: Any, **kw: Any):
            check_scope(scope)
            return fn(*a, **kw)

        wrapper.required_scope = scope  # type: ignore[attr-defined]
        return wrapper

    return deco


def requires_role(*roles: str) -> Callable:
    """Declare at the route which roles may open a UI page (admins always may)."""

    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*a: Any, **kw: Any):
            principal = current_principal()
            if principal is None:
                return redirect(url_for("ui.login", next=request.full_path))
            if roles and principal.role not in roles and principal.role != "admin":
                from flask import abort

                abort(403)
            return fn(*a, **kw)

        wrapper.required_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return deco


def login_session(user: User) -> None:
    """Start a fresh session for ``user`` (bound to the password hash, so a change logs out)."""
    session.clear()
    session["user_id"] = user.id
    session["pw"] = (user.password_hash or "")[-16:]
    session.permanent = True
