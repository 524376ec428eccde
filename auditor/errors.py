"""One error shape: RFC 9457 problem documents for the API, one line and exit 2 for the CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

PROBLEM = "application/problem+json"


class ApiError(Exception):
    """An error the API reports as a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        type_: str = "about:blank",
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.type, self.errors, self.headers = type_, errors or [], headers or {}


def problem(status: int, title: str, detail: str = "", *, type_: str = "about:blank",
            errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as ``[{"loc": "a.b", "msg": ...}]`` without echoing the input."""
    return [{"loc": ".".join(str(x) for x in e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


def _wants_problem() -> bool:
    p = request.path
    return p.startswith("/api/") or p.startswith("/u/") or p in ("/healthz", "/readyz") or (
        request.accept_mimetypes.best in ("application/json", PROBLEM)
    )


def init_app(app: Flask) -> None:
    """Register the one error handler."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return problem(exc.status, exc.title, exc.detail, type_=exc.type, errors=exc.errors, headers=exc.headers)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        return problem(422, "Invalid request", "the request body does not match the schema",
                       errors=validation_errors(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.response is not None:  # already a full answer (e.g. the 429 problem of ratelimit)
            return exc.response
        if not _wants_problem():
            return exc
        detail = exc.description or ""
        if exc.code == 413:
            detail = f"the request body is larger than {app.config.get('MAX_CONTENT_LENGTH')} bytes"
        return problem(exc.code or 500, exc.name, detail)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_problem():
            return problem(500, "Internal Server Error", "an unexpected error occurred; it was logged")
        return Response("Internal Server Error", status=500)


def waitress_server(app: Flask, host: str, port: int, threads: int) -> Any:
    """A waitress server whose own errors (413 above the body limit, 400, 431) are problem documents.

    Waitress refuses a body larger than ``max_request_body_size`` before the app sees it; the
    limit is the app's ``MAX_CONTENT_LENGTH`` so both answer alike, with the documented number.
    """
    import waitress
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    limit = app.config["MAX_CONTENT_LENGTH"]

    class _ProblemErrorTask(ErrorTask):
        def execute(self) -> None:
            e = self.request.error
            detail = (f"the request body is larger than {limit} bytes" if e.code == 413
                      else str(e.body).splitlines()[0] if e.body else "")
            body = json.dumps({"type": "about:blank", "title": e.reason, "status": e.code,
                               "detail": detail}).encode()
            self.status = f"{e.code} {e.reason}"
            self.response_headers.append(("Content-Type", PROBLEM))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class _ProblemChannel(HTTPChannel):
        error_task_class = _ProblemErrorTask

    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="auditor",
                                    max_request_body_size=limit)
    server.channel_class = _ProblemChannel
    return server
