"""The gate's hand-written JSON says exactly what the plain data says."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from auditor.gate.services import GateAnswer


@pytest.mark.parametrize("email", [True, False])
def test_to_json_matches_to_dict(email):
    answer = GateAnswer(
        campaign_id=3,
        allowed=[("anna@example.org", "https://a.example/u/AQ-_x"), ('quo"te\\@example.org', "https://a.example/u/B")],
        suppressed=[("вера@пример.рф", "CONSENT-NONE", "no consent"), ("bad\ud800", "CONSENT-NONE", "line\nbreak")],
        checked_at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC), ledger_size=42, email=email)
    text = answer.to_json()
    assert text.isascii()  # escaped: a lone surrogate in a recipient cannot break the UTF-8 body
    assert json.loads(text) == answer.to_dict()
