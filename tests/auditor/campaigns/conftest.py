"""Fixtures of the campaign tests."""

from tests.auditor.campaigns.loop import loop  # noqa: F401
