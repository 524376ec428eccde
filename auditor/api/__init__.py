"""The JSON API blueprint: declared routes, pydantic bodies, scopes, idempotency, OpenAPI."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import unquote_plus

from flask import Blueprint, Response, json, request
from pydantic import BaseModel, ConfigDict, ValidationError

from auditor.auth import check_scope
from auditor.errors import ApiError, validation_errors

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class RouteSpec:
    """What the OpenAPI document says of one route."""

    rule: str
    methods: tuple[str, ...]
    endpoint: str
    summary: str
    scope: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    raw_body: str | None = None
    errors: dict[int, str] = field(default_factory=dict)
    produces: tuple[str, ...] = ()  # media types of a streamed (non-JSON) success body
    localised: bool = False  # findings in ?lang= / Accept-Language (en, ru)


ROUTES: list[RouteSpec] = []


MAX_JSON_DEPTH = 32


def _depth_ok(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if no container in ``data`` is nested deeper than ``limit`` (scalars are not visited)."""
    if not isinstance(data, dict | list):
        return True
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        values = node.values() if isinstance(node, dict) else node
        stack.extend([(v, depth + 1) for v in values if isinstance(v, dict | list)])
    return True


class TooDeep(ValueError):
    """A JSON document nested deeper than MAX_JSON_DEPTH."""


def loads_limited(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses documents nested deeper than ``limit`` with TooDeep (a ValueError)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {limit} levels") from None
    if not _depth_ok(data, limit):
        raise TooDeep(f"JSON nested deeper than {limit} levels")
    return data


def parse_json_body() -> Any:
    """The request's JSON, refusing non-JSON, malformed and over-deep documents with 400."""
    if not request.is_json:
        raise ApiError(415, "Unsupported Media Type", "send the body as application/json")
    try:
        return loads_limited(request.get_data(cache=True))
    except TooDeep as exc:
        raise ApiError(400, "Bad Request", str(exc)) from None
    except ValueError as exc:
        raise ApiError(400, "Bad Request", f"the body is not valid JSON: {exc}") from None


def _parse_body(model: type[BaseModel]) -> BaseModel:
    data = parse_json_body()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "Invalid request", "the body does not match the schema",
                       errors=validation_errors(exc)) from None


def _parse_query(model: type[BaseModel], localised: bool = False) -> BaseModel:
    args = request.args.to_dict()
    if localised:
        args.pop("lang", None)  # the route's language, not one of its model's fields
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise ApiError(422, "Invalid query", "the query string does not match the schema",
                       errors=validation_errors(exc)) from None


LANGS = ("en", "ru")


def request_lang() -> str | None:
    """The language a client asked for: ``?lang=`` (en or ru, else 422), else the best match of
    ``Accept-Language`` among en and ru; None when it asked for neither (the stored English)."""
    given = request.args.get("lang")
    if given is not None:
        if given not in LANGS:
            msg = f"lang must be one of {', '.join(LANGS)}, not {given!r}"
            raise ApiError(422, "Invalid query", msg, errors=[{"loc": "lang", "msg": msg}])
        return given
    return request.accept_languages.best_match(LANGS) if request.accept_languages else None


def localise_findings(result: Any, lang: str) -> Any:
    """``result`` with every finding (a dict with a ``rule_id`` in a ``findings`` list, at any
    depth) in ``lang``: title, citation, detail and remedy from the catalogues; rule ids unchanged."""
    from checks.catalogue import localised

    if isinstance(result, tuple):
        return (localise_findings(result[0], lang), *result[1:])
    if isinstance(result, list):
        return [localise_findings(v, lang) for v in result]
    if not isinstance(result, dict):
        return result
    out = {}
    for k, v in result.items():
        if k == "findings" and isinstance(v, list):
            out[k] = [localised(f, lang) if isinstance(f, dict) and "rule_id" in f else f for f in v]
        else:
            out[k] = localise_findings(v, lang)
    return out


def localise_response(resp: Response, lang: str) -> Response:
    """``resp`` (a JSON answer) with its findings in ``lang`` (:func:`localise_findings`); other bodies unchanged."""
    if resp.mimetype == "application/json":
        resp.set_data(json.dumps(localise_findings(json.loads(resp.get_data()), lang), ensure_ascii=False))
    return resp


def _render(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json", exclude_none=False)
    return Response(json.dumps(result, ensure_ascii=False), status=status, mimetype="application/json")


def route(
    rule: str,
    *,
    methods: tuple[str, ...] = ("GET",),
    scope: str | None,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    tags: tuple[str, ...] = (),
    raw_body: str | None = None,
    errors: dict[int, str] | None = None,
    produces: tuple[str, ...] = (),
    localised: bool = False,
) -> Callable:
    """Declare an API route: its scope, body and query models and response model.

    The handler gets ``principal`` and, when declared, ``body`` and ``query`` keyword arguments.
    ``errors`` documents problem statuses particular to this route (e.g. ``{409: "..."}``).
    ``localised`` routes answer their findings in the language of ``?lang=`` or ``Accept-Language``.
    """

    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def view(**kwargs: Any) -> Response:
            principal = check_scope(scope)
            lang = request_lang() if localised else None
            if body is not None:
                kwargs["body"] = _parse_body(body)
            if query is not None:
                kwargs["query"] = _parse_query(query, localised)

            def run() -> Response:
                result = fn(principal=principal, **kwargs)
                return _render(localise_findings(result, lang) if lang else result, status)

            idem = request.headers.get("Idempotency-Key") if request.method == "POST" else None
            if idem and principal is not None:
                from auditor.idempotency import replay_or_run

                # The key keeps the answer as stored (findings in English, as the database holds
                # them); the first answer and every replay are put in their own request's language.
                return replay_or_run(principal.actor, idem, lambda: _render(fn(principal=principal, **kwargs), status),
                                     present=(lambda resp: localise_response(resp, lang)) if lang else None,
                                     ignore=("lang",) if localised else ())
            return run()

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=list(methods))
        ROUTES.append(RouteSpec(rule, methods, fn.__name__, summary, scope, body, query,
                                {status: response}, tags, raw_body, dict(errors or {}), produces, localised))
        view.required_scope = scope  # type: ignore[attr-defined]
        return view

    return deco


def request_fingerprint(ignore: tuple[str, ...] = ()) -> str:
    """SHA-256 of method, path, query string and body: tells a replay from a different request.
    Query parameters named in ``ignore`` (a localised route's ``lang``) are left out: they choose how
    the answer is shown, not what the request does."""
    query = request.query_string
    if ignore:
        kept = [p for p in query.split(b"&") if unquote_plus(p.split(b"=", 1)[0].decode("latin-1")) not in ignore]
        if len(kept) < len(query.split(b"&")):
            query = b"&".join(kept)
    h = hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"?" + query + b"\n")
    h.update(request.get_data(cache=True))
    return h.hexdigest()


DESCRIPTION = """Compliance and deliverability audits, the consent ledger and the send gate.

**Authentication**: `Authorization: Bearer <api key>` (`auditor keys create`); each operation names
the scope it needs.  **Errors** are `application/problem+json` (RFC 9457): `title`, `status`,
`detail`, and `errors` (`loc`, `msg`) for invalid bodies.  **Limits**: bodies up to 10485760 bytes
(413), JSON nested up to 32 levels (400), request rates per API key and per client address (429
with `Retry-After`).  **Retries**: send `Idempotency-Key` with a POST to make it safe to repeat: a
repeat gets the first answer (the same status and resource), its findings in the language the
repeat asks for (`?lang=` and `Accept-Language` are not part of what makes two requests the same).
**Languages**: operations that return findings (campaigns, domain and IP audits, message checks,
DMARC and TLS reports) take `?lang=ru` or `Accept-Language: ru`: each finding's `title`, `detail`,
`citation` and `remedy` are then in Russian (with `"lang": "ru"`); `rule_id`, `severity`,
`subject` and `evidence` do not change. Without either, findings are as stored (English)."""


_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document generated from the declared routes and their models."""
    from pydantic.json_schema import models_json_schema

    from auditor.api.docs import example, problem_example

    models = {m for r in ROUTES for m in (r.body, r.query, *r.responses.values()) if m is not None}
    _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                 ref_template="#/components/schemas/{model}")
    schemas = defs.get("$defs", {})
    schemas["Problem"] = {"type": "object", "description": "RFC 9457 problem details", "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "errors": {"type": "array", "items": {"type": "object"}}},
        "required": ["title", "status"]}
    retry_after = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
    paths: dict[str, Any] = {}
    for r in ROUTES:
        path = bp.url_prefix + _PARAM.sub(r"{\1}", r.rule)
        for method in r.methods:
            op: dict[str, Any] = {"operationId": r.endpoint, "summary": r.summary, "tags": list(r.tags)}
            params = [{"name": n, "in": "path", "required": True,
                       "schema": {"type": "integer" if f"<int:{n}>" in r.rule else "string"}}
                      for n in _PARAM.findall(r.rule)]
            if r.query is not None:
                qs = r.query.model_json_schema()
                for name, prop in qs.get("properties", {}).items():
                    params.append({"name": name, "in": "query", "required": name in qs.get("required", []),
                                   "schema": prop})
            if r.localised:
                params += [{"name": "lang", "in": "query", "required": False,
                            "description": "language of the findings' title, detail, citation and remedy "
                                           "(rule ids do not change); default: Accept-Language, else English",
                            "schema": {"type": "string", "enum": list(LANGS)}},
                           {"name": "Accept-Language", "in": "header", "required": False,
                            "description": "used when ?lang= is absent: the best match of en and ru",
                            "schema": {"type": "string"}}]
            if method == "POST":
                params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                               "description": "the same key and request replay the first answer "
                                              "(header Idempotent-Replayed: true), its findings in this "
                                              "request's language (?lang= or Accept-Language); 409 while it runs",
                               "schema": {"type": "string", "maxLength": 200}})
            if params:
                op["parameters"] = params
            if r.body is not None:
                ref = {"$ref": f"#/components/schemas/{r.body.__name__}"}
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": ref, "example": example(ref, schemas)}}}
            elif r.raw_body:
                op["requestBody"] = {"required": True, "content": {r.raw_body: {"schema": {"type": "string"}}}}
            responses: dict[str, Any] = {}
            for code, model in r.responses.items():
                schema = {"$ref": f"#/components/schemas/{model.__name__}"} if model else {"type": "object"}
                if r.produces:
                    content = {mt: {"schema": {"type": "string"}} for mt in r.produces}
                else:
                    body = {"schema": schema}
                    if model:
                        body["example"] = example(schema, schemas)
                    content = {"application/json": body}
                responses[str(code)] = {"description": "success", "content": content}
            errors = [(400, "bad request"), (401, "no or unknown API key"), (403, "scope or role missing"),
                      (404, "not found"), (413, "body too large"), (415, "not JSON"), (422, "invalid body"),
                      (429, "too many requests: wait Retry-After seconds")]
            if method == "POST":
                errors.append((409, "a request with this Idempotency-Key is still running"))
            for code, text in (*errors, *r.errors.items()):
                responses[str(code)] = {"description": text, "content": {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}, "example": problem_example(code, text)}}}
                if code in (409, 429):
                    responses[str(code)]["headers"] = retry_after
            op["responses"] = dict(sorted(responses.items()))
            if r.scope:
                op["security"] = [{"bearer": []}]
                op["x-scope"] = r.scope
                op["description"] = f"Needs an API key with the scope `{r.scope}`."
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Auditor API", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
