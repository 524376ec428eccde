"""Property-based API testing from the OpenAPI document: no 5xx, responses match the schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.auditor.campaigns.loop import build_loop

# Raw RFC 5322 messages (POST /api/v1/messages/check) are text: send the generated string as is.
schemathesis.serializer.alias("message/rfc822", "text/plain")

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_every_operation_conforms_and_never_fails(make_app, make_user, dns_server, figures, monkeypatch):
    """Valid and invalid requests for every operation of the generated OpenAPI document."""
    # Thousands of cases from one key and address: request limits (tests/auditor/test_ratelimit.py) off.
    monkeypatch.setenv("AUDITOR_RATELIMIT_ENABLED", "false")
    loop = build_loop(make_app, make_user, dns_server)
    loop.consented("known@example.org")
    loop.approved(["known@example.org"])
    headers = {"Authorization": f"Bearer {loop.keys['admin']}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", loop.app)
    counts: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode, checks in ((GenerationMode.POSITIVE, CHECKS),
                             (GenerationMode.NEGATIVE, [*CHECKS, negative_data_rejection])):
            _explore(operation, mode, checks, headers, counts)
    figures({"operations": len(operations), "cases": sum(counts.values()), "per_operation": counts})
    assert sum(counts.values()) >= 20 * len(operations)


def _explore(operation, mode, checks, headers, counts) -> None:
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        counts[operation.label] = counts.get(operation.label, 0) + 1
        # Set on the case (not per call) so that schemathesis revalidates it: a negative case whose
        # only fault was a missing Authorization header is a valid request once the key is added.
        case.headers = {**(case.headers or {}), **headers}
        case.call_and_validate(checks=checks)

    run()
