"""The OpenAPI document has schemas, examples and problem responses; /api/docs renders it offline."""

from __future__ import annotations

import re

import pydantic
import pytest

from tests.auditor.ui.browser import DESKTOP, SCREENSHOTS, chromium, serve


@pytest.fixture
def doc(client) -> dict:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    return r.json


def _ops(doc: dict):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_every_operation_has_examples_and_problem_responses(doc):
    ops = list(_ops(doc))
    assert len(ops) >= 15
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            assert "$ref" in body["schema"] and "example" in body, where
        success = [c for c in op["responses"] if c.startswith("2")]
        assert success, where
        for code in ("400", "401", "403", "413", "422", "429"):
            problem = op["responses"][code]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, where
            assert problem["example"]["status"] == int(code), where
        assert "Retry-After" in op["responses"]["429"]["headers"]
        if method == "post":
            assert "409" in op["responses"], where
            assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"]), where
    assert "10485760" in doc["info"]["description"]
    assert doc["paths"]["/api/v1/consents"]["post"]["responses"]["413"]["content"][
        "application/problem+json"]["example"]["detail"] == "the request body is larger than 10485760 bytes"


def test_the_examples_are_valid_for_their_models(app):
    from auditor.api import ROUTES, openapi_document

    with app.app_context():
        doc = openapi_document()
    checked = 0
    for r in ROUTES:
        path = "/api/v1" + re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", r.rule)
        for method in r.methods:
            op = doc["paths"][path][method.lower()]
            pairs = [(r.body, op["requestBody"]["content"]["application/json"]["example"])] if r.body else []
            pairs += [(m, op["responses"][str(c)]["content"]["application/json"]["example"])
                      for c, m in r.responses.items() if m]
            for model, value in pairs:
                try:
                    model.model_validate(value)
                except pydantic.ValidationError as exc:
                    pytest.fail(f"{method} {path}: the example of {model.__name__} is invalid: {exc}")
                checked += 1
    assert checked >= 20


def test_the_docs_page_loads_nothing_from_elsewhere(client):
    r = client.get("/api/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # every asset from this server
    assert "<script>" not in page  # no inline script: the CSP would block it
    for asset in re.findall(r"(?:src|href)=\"(/api/docs/[^\"]+)\"", page):
        assert client.get(asset).status_code == 200, asset


@pytest.mark.browser
def test_swagger_ui_renders_the_operations_offline(app):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "api-docs.png"
    with serve(app) as base, chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        elsewhere: list[str] = []
        errors: list[str] = []

        def only_here(route):
            if route.request.url.startswith(base):
                return route.continue_()
            elsewhere.append(route.request.url)
            return route.abort()

        page.route("**/*", only_here)  # no network beyond this server: as offline as it gets
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/api/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        assert page.locator(".opblock").count() >= 15
        assert page.locator(".opblock-summary-path", has_text="/api/v1/consents").count() >= 1
        page.screenshot(path=str(SCREENSHOTS / "api-docs-top.png"))
        page.locator("#operations-ledger-record_consents .opblock-summary").click()
        page.wait_for_selector("#operations-ledger-record_consents .body-param__example, "
                               "#operations-ledger-record_consents .microlight", timeout=10_000)
        text = page.locator("#operations-ledger-record_consents").inner_text()
        assert "anna@example.org" in text and "application/problem+json" in text and "429" in text
        page.screenshot(path=str(shot), full_page=False)
        assert elsewhere == [] and errors == [], (elsewhere, errors)
    assert shot.stat().st_size > 10_000
