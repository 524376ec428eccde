"""Fixtures of the unsubscribe tests (the loop is shared with the campaign tests)."""

from tests.auditor.campaigns.loop import loop  # noqa: F401
