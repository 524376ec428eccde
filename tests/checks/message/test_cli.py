"""``auditor check message FILE.eml``: findings, exit codes, JSON."""

from __future__ import annotations

import json

import pytest

from tests.checks.message.conftest import DEFAULT_HTML, DOMAIN, make_raw, zone
from tests.conftest import Runner


@pytest.fixture
def cli(make_app, dns_server):
    """A runner on an app whose resolver is the loopback zone, with one domain blocklist."""
    server = dns_server(zone(), DOMAIN)
    app = make_app(dns_nameservers=f"{server.address}:{server.port}", dns_timeout=3.0,
                   blocklists="domain:dbl.test=block")
    return Runner(app)


def test_clean_signed_message_passes(cli, tmp_path):
    path = tmp_path / "ok.eml"
    path.write_bytes(make_raw())
    result = cli.invoke(["check", "message", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["verdict"] == "pass" and out["aligned"] and out["one_click"]
    assert out["dkim"][0]["ok"] and out["dkim"][0]["d"] == DOMAIN


def test_unsigned_message_with_listed_link_blocks(cli, tmp_path):
    path = tmp_path / "bad.eml"
    path.write_bytes(make_raw(selector=None, html=DEFAULT_HTML + '<a href="https://bad-links.example/">x</a>'))
    result = cli.invoke(["check", "message", str(path)])
    assert result.exit_code == 1
    for rule_id in ("MSG-DKIM-UNSIGNED", "MSG-ONE-CLICK-MISSING", "BL-LINK-DOMAIN-LISTED"):
        assert rule_id in result.output
    result = cli.invoke(["check", "message", str(path), "--no-blocklists", "--json"])
    assert "BL-LINK-DOMAIN-LISTED" not in {f["rule_id"] for f in json.loads(result.output)["findings"]}


def test_transactional_message_needs_no_unsubscribe(cli, tmp_path):
    path = tmp_path / "receipt.eml"
    path.write_bytes(make_raw(list_unsubscribe=None, post=None, html="<p>Your receipt</p>", text="Your receipt"))
    result = cli.invoke(["check", "message", str(path), "--transactional", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"] == []


def test_missing_or_empty_file_exits_2(cli, tmp_path):
    result = cli.invoke(["check", "message", str(tmp_path / "nope.eml")])
    assert result.exit_code == 2 and "cannot read" in result.output
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    result = cli.invoke(["check", "message", str(empty)])
    assert result.exit_code == 2 and "empty" in result.output


def test_lang_ru_prints_titles_details_and_citations_in_russian(cli, tmp_path):
    path = tmp_path / "bad.eml"
    path.write_bytes(make_raw(selector=None))
    result = cli.invoke(["check", "message", str(path), "--no-blocklists", "--lang", "ru"])
    assert result.exit_code == 1
    assert "Сообщение не подписано DKIM — нет заголовка DKIM-Signature  [правила Gmail/Yahoo]" in result.output
    english = cli.invoke(["check", "message", str(path), "--no-blocklists"])
    assert "Message has no DKIM signature — no DKIM-Signature header  [Gmail/Yahoo rules]" in english.output
    assert cli.invoke(["check", "message", str(path), "--lang", "de"]).exit_code == 2
