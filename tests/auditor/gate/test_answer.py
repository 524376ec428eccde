"""The gate's hand-written JSON says exactly what the plain data says."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from auditor.gate.services import GateAnswer


@pytest.mark.parametrize(("email", "plain_urls"), [(True, False), (False, False), (True, True)])
def test_to_json_matches_to_dict(email, plain_urls):
    answer = GateAnswer(
        campaign_id=3,
        allowed=[("anna@example.org", "https://a.example/u/AQ-_x"), ('quo"te\\@example.org', "https://a.example/u/B")],
        suppressed=[("вера@пример.рф", "CONSENT-NONE", "no consent"), ("bad\ud800", "CONSENT-NONE", "line\nbreak")],
        checked_at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC), ledger_size=42, email=email,
        plain_urls=plain_urls)
    text = answer.to_json()
    assert text.isascii()  # escaped: a lone surrogate in a recipient cannot break the UTF-8 body
    assert json.loads(text) == answer.to_dict()


def test_a_base_url_that_needs_escaping_is_escaped():
    """The gate writes URLs unescaped only when its configured base needs no escaping."""
    answer = GateAnswer(3, [("a@example.org", 'https://a.example/"x/u/T')], [], datetime.now(UTC), 1, True, False)
    assert json.loads(answer.to_json())["allowed"][0]["unsubscribe_url"] == 'https://a.example/"x/u/T'
