"""``/api/docs``: Swagger UI served from the flask-swagger-ui package (no CDN, works offline),
and the examples the OpenAPI document shows for each request, response and problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, send_from_directory

# Hand-written examples where a schema alone gives no useful one (by component name).
EXAMPLES: dict[str, Any] = {
    "ConsentEventBody": {
        "type": "granted", "subject": "anna@example.org", "channel": "email", "purpose": "marketing",
        "jurisdiction": "RU", "legal_basis": "consent", "method": "web_form",
        "evidence": {"source_url": "https://shop.example/subscribe", "ip": "192.0.2.7", "notice_version": "v3",
                     "separate_document": True, "pre_ticked": False},
        "claimed_at": "2026-11-01T10:00:00+03:00"},
    "EraseBody": {"subject": "anna@example.org"},
    "CampaignDocument": {
        "name": "November promo", "channel": "email", "purpose": "marketing", "advertising": True,
        "jurisdictions": ["RU"],
        "sender": {"from": "News <news@shop.example>", "domain": "shop.example", "ips": ["192.0.2.10"],
                   "dkim_selectors": ["s1"], "legal_name": "OOO Shop", "postal_address": "Moscow, Tverskaya 1",
                   "inn": "7700000000"},
        "message": {"subject": "Winter sale", "html": "<p>Sale!</p><p><a href=\"https://shop.example/u\">Unsubscribe</a></p>",
                    "text": "Sale! Unsubscribe: https://shop.example/u",
                    "ad_marking": {"label": "Реклама", "erid": "2VtzqvWgxEY"}},
        "unsubscribe": "auditor", "recipients": ["anna@example.org"],
        "scheduled_at": "2026-12-01T09:00:00+03:00"},
}

PROBLEM_EXAMPLES = {
    400: ("Bad Request", "JSON nested deeper than 32 levels"),
    401: ("Unauthorized", "send Authorization: Bearer <api key>"),
    403: ("Forbidden", "this key lacks the scope consent:write"),
    404: ("Not Found", "no such campaign"),
    409: ("Request in progress", "a request with this Idempotency-Key is still running; retry to get its answer"),
    413: ("Request Entity Too Large", "the request body is larger than 10485760 bytes"),
    415: ("Unsupported Media Type", "send the body as application/json"),
    422: ("Invalid request", "the body does not match the schema"),
    429: ("Too Many Requests", "more than 600 per 1 minute from this API key; retry in 12 seconds"),
}

_STRINGS = {"date-time": "2026-11-01T10:00:00Z", "date": "2026-11-01", "email": "anna@example.org",
            "uri": "https://example.org/", "ipv4": "192.0.2.7"}
_NAMED = {"subject": "anna@example.org", "email": "anna@example.org", "domain": "example.org",
          "pseudonym": "3f" * 32, "ip": "192.0.2.7", "url": "https://example.org/"}


def example(schema: dict[str, Any], defs: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """An example value for a JSON schema: its own example, else one built from types and names."""
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        if ref in EXAMPLES:
            return EXAMPLES[ref]
        return example(defs.get(ref, {}), defs, name, depth)
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("default") is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example(options[0], defs, name, depth)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        props, required = schema.get("properties", {}), set(schema.get("required", []))
        return {k: example(v, defs, k, depth + 1) for k, v in props.items()
                if k in required or "examples" in v}
    if kind == "array":
        return [example(schema.get("items", {}), defs, name, depth + 1)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 1.0)
    if kind == "boolean":
        return True
    if kind == "string":
        return _STRINGS.get(schema.get("format", ""), _NAMED.get(name, "string"))
    return None


def problem_example(status: int, text: str) -> dict[str, Any]:
    """An RFC 9457 problem document for ``status``."""
    title, detail = PROBLEM_EXAMPLES.get(status, (text.capitalize(), text))
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}


def swagger_dist() -> Path:
    """The Swagger UI files that the flask-swagger-ui package ships."""
    import flask_swagger_ui

    return Path(flask_swagger_ui.__file__).parent / "dist"


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Auditor API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/static/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/api/docs/static/swagger-ui-standalone-preset.js"></script>
<script src="/api/docs/init.js"></script></body></html>"""

# A file, not an inline script: the Content-Security-Policy allows scripts from 'self' only.
INIT = """window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout",
  validatorUrl: null, tryItOutEnabled: false, persistAuthorization: false});"""


def init_app(app: Flask) -> None:
    """Register ``/api/docs`` and its static files."""
    dist = swagger_dist()

    @app.get("/api/docs")
    def api_docs() -> Response:
        return Response(PAGE, mimetype="text/html")

    @app.get("/api/docs/init.js")
    def api_docs_init() -> Response:
        return Response(INIT, mimetype="text/javascript")

    @app.get("/api/docs/static/<path:name>")
    def api_docs_static(name: str) -> Response:
        return send_from_directory(dist, name, max_age=86400)
