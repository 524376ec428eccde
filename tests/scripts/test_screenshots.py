"""scripts/screenshots.py: the demo it builds shows each documented page with its element."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"


def _script():
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("screenshots", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_page_of_the_walkthrough_shows_its_element(tmp_path):
    shots = _script().capture(tmp_path)
    assert list(shots) == ["integrations-add", "integrations-url-once", "integrations-events",
                           "person-withdrawal-source", "campaign-audience-export", "delivery",
                           "person-withdrawal-source-ru"]
    assert shots["integrations-url-once"].startswith("https://auditor.example.com/hooks/mailchimp/")
    token = shots["integrations-url-once"].rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, url-safe base64
    # the Mailchimp unsubscribe went through the real endpoint and names its source on the person page
    assert "mailchimp" in shots["person-withdrawal-source"]
    assert "integration mailchimp-news" in shots["person-withdrawal-source"]
    assert "Источник" in shots["person-withdrawal-source-ru"] and "интеграция mailchimp-news" in shots[
        "person-withdrawal-source-ru"]
    assert "CSV" in shots["campaign-audience-export"] and "JSON Lines" in shots["campaign-audience-export"]
    assert "processed" in shots["integrations-events"] and "unione-transactional" in shots["integrations-events"]
    for name in shots:  # the PNGs stay small enough for the docs
        assert 0 < (tmp_path / f"{name}.png").stat().st_size <= 200 * 1024
