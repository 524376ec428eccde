"""Fixtures of the gate tests (the loop is shared with the campaign tests)."""

from tests.auditor.campaigns.loop import loop  # noqa: F401
