"""``auditor check domain|zone|ip``: exit codes, JSON with ids, the human table, bad input."""

from __future__ import annotations

import json

import pytest

from tests.checks.conftest import BASE, DOMAIN, GOOD, SENDER_IP, zone
from tests.conftest import Runner

LISTS = "2.0.0.127.bl.test. IN A 127.0.0.2\n66.2.0.192.bl.test. IN A 127.0.0.2\ntest.dbl.test. IN A 127.0.0.2\n"


@pytest.fixture
def cli(make_app, dns_server):
    """A runner whose app resolves through a loopback server with the test zone and lists."""
    server = dns_server(zone(LISTS))
    app = make_app(dns_nameservers=server.nameserver, dns_timeout=1.0, blocklists="ip:bl.test,domain:dbl.test")
    return Runner(app), server


def test_domain_json_lists_findings_with_ids_and_exits_0(cli) -> None:
    runner, _ = cli
    result = runner.invoke(["check", "domain", DOMAIN, "--ip", SENDER_IP, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["verdict"] == "pass" and out["target"] == DOMAIN
    assert {f["rule_id"] for f in out["findings"]} >= {"DNSSEC-UNSIGNED"}
    assert all({"rule_id", "severity", "title", "citation"} <= f.keys() for f in out["findings"])
    assert {b["zone"] for b in out["blocklists"]} == {"bl.test", "dbl.test"}


def test_domain_blocked_exits_1_with_a_table(cli) -> None:
    runner, _ = cli
    result = runner.invoke(["check", "domain", DOMAIN, "--selector", "nokey", "--ip", "192.0.2.66"])
    assert result.exit_code == 1
    assert "BLOCK" in result.output
    assert "DKIM-KEY-MISSING" in result.output and "BL-IP-LISTED" in result.output
    assert result.output.index("block") < result.output.index("info")
    ru = runner.invoke(["check", "domain", DOMAIN, "--selector", "nokey", "--ip", "192.0.2.66", "--lang", "ru"])
    assert ru.exit_code == 1
    assert "Для селектора DKIM нет ключа" in ru.output
    assert "IP-адрес отправки в чёрном списке" in ru.output and "RFC 6376, разд. 3.6" in ru.output


def test_nameserver_option_overrides_configuration(make_app, dns_server) -> None:
    other = dns_server(zone(good=False))
    runner = Runner(make_app(dns_nameservers="127.0.0.1:9", dns_timeout=0.5, blocklists="ip:bl.test"))
    result = runner.invoke(["check", "domain", DOMAIN, "--nameserver", other.nameserver, "--json"])
    assert result.exit_code == 1
    assert "SPF-MISSING" in {f["rule_id"] for f in json.loads(result.output)["findings"]}


def test_ip(cli) -> None:
    runner, _ = cli
    ok = runner.invoke(["check", "ip", SENDER_IP, "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["findings"] == []
    bad = runner.invoke(["check", "ip", "192.0.2.66", "--json"])
    assert bad.exit_code == 1
    assert {f["rule_id"] for f in json.loads(bad.output)["findings"]} == {"PTR-MISSING", "BL-IP-LISTED"}


def test_zone(cli, tmp_path) -> None:
    runner, _ = cli
    path = tmp_path / "proposed.zone"
    path.write_text(BASE + GOOD, encoding="utf-8")
    result = runner.invoke(["check", "zone", str(path), "--origin", DOMAIN, "--ip", SENDER_IP, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["blocklists"] == []
    path.write_text(BASE + GOOD.replace("p=reject", "p=none"), encoding="utf-8")
    result = runner.invoke(["check", "zone", str(path), "--origin", DOMAIN])
    assert result.exit_code == 0 and "DMARC-POLICY-NONE" in result.output


@pytest.mark.parametrize("args", [
    ["check", "domain", "not a domain"],
    ["check", "domain", DOMAIN, "--ip", "999.1.1.1"],
    ["check", "domain", DOMAIN, "--nameserver", "nowhere:53"],
    ["check", "ip", "example.test"],
    ["check", "zone", "/nonexistent.zone", "--origin", DOMAIN],
])
def test_bad_usage_is_one_line_and_exit_2(cli, args) -> None:
    result = cli[0].invoke(args)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1


def test_bad_zone_text_is_one_line_and_exit_2(cli, tmp_path) -> None:
    path = tmp_path / "bad.zone"
    path.write_text("@ IN MX bogus\n", encoding="utf-8")
    result = cli[0].invoke(["check", "zone", str(path), "--origin", DOMAIN])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert "line 1: expecting an integer: '@ IN MX bogus'" in result.output


@pytest.mark.parametrize(("text", "expected"), [
    ("; nothing yet\n", "the zone file is empty"),
    ('$ORIGIN other.test.\n@ IN TXT "v=spf1 -all"\n', "line 1: $ORIGIN other.test. is not example.test"),
])
def test_empty_or_foreign_zone_is_refused_with_exit_2(cli, tmp_path, text: str, expected: str) -> None:
    path = tmp_path / "proposed.zone"
    path.write_text(text, encoding="utf-8")
    result = cli[0].invoke(["check", "zone", str(path), "--origin", DOMAIN, "--json"])
    assert result.exit_code == 2 and expected in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_group_is_importable_for_other_subcommands() -> None:
    from auditor.checking.cli import check_group, commands

    assert commands == [check_group]
    assert {"domain", "zone", "ip"} <= set(check_group.commands)
