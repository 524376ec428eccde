"""``auditor check message FILE.eml``: the RULES.md §3 message checks, DKIM verified through DNS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from auditor.checking.cli import LANG_OPTION, check_group, texts
from auditor.cli import emit, fail, get_app

MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # larger than any mailbox provider accepts


def _resolver_and_lists(nameserver: str | None, use_blocklists: bool) -> tuple[Any, list]:
    """The configured resolver (``--nameserver`` overriding it) and blocklists."""
    from auditor.config import parse_nameservers
    from auditor.services import services
    from checks.blocklists import BlocklistConfigError, parse_blocklists
    from checks.resolver import make_resolver

    settings = services(get_app()).settings
    try:
        servers = parse_nameservers(nameserver or settings.dns_nameservers)
    except ValueError as exc:
        fail(f"--nameserver {nameserver}: {exc}")
    lists: list = []
    if use_blocklists:
        try:
            lists = parse_blocklists(settings.blocklists)
        except BlocklistConfigError as exc:
            fail(f"AUDITOR_BLOCKLISTS: {exc}")
    return make_resolver(servers, settings.dns_timeout), lists


@check_group.command("message")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--envelope-domain", help="the envelope sender (SPF) domain, for DMARC alignment")
@click.option("--transactional", is_flag=True, help="not marketing: no unsubscribe requirements")
@click.option("--no-blocklists", is_flag=True, help="do not look link domains up on the blocklists")
@click.option("--nameserver", help="IP[:PORT] to query instead of AUDITOR_DNS_NAMESERVERS")
@click.option("--json", "as_json", is_flag=True, help="one JSON document on stdout")
@LANG_OPTION
def check_message_command(file: Path, envelope_domain: str | None, transactional: bool, no_blocklists: bool,
                          nameserver: str | None, as_json: bool, lang: str) -> None:
    """Check a raw RFC 5322 message (exit 1 if anything blocks): headers, DKIM, alignment, unsubscribe, links."""
    from checks.message import MessageInputError, check_message

    try:
        if file.stat().st_size > MAX_MESSAGE_BYTES:
            fail(f"{file}: larger than {MAX_MESSAGE_BYTES} bytes")
        raw = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    resolver, lists = _resolver_and_lists(nameserver, not no_blocklists)
    try:
        report = check_message(raw, resolver=resolver, marketing=not transactional, bulk=True,
                               envelope_domain=envelope_domain, blocklists=lists)
    except MessageInputError as exc:
        fail(f"{file}: {exc}")
    blocked = any(f.severity == "block" for f in report.findings)
    if as_json:
        emit(report.to_dict() | {"file": str(file), "verdict": "block" if blocked else "pass"})
    else:
        _print_human(file, report, blocked, lang)
    if blocked:
        raise click.exceptions.Exit(1)


def _print_human(file: Path, report: Any, blocked: bool, lang: str = "en") -> None:
    colours = {"block": "red", "warn": "yellow", "info": "cyan"}
    verdict = click.style("BLOCK", fg="red", bold=True) if blocked else click.style("PASS", fg="green")
    click.echo(f"{file}: {verdict}  From {report.from_addr or '?'}  ({len(report.findings)} findings)")
    for s in report.dkim:
        state = "pass" if s["ok"] else f"fail ({s['error']})"
        click.echo(f"  DKIM d={s['d']} s={s['s']}: {state}")
    click.echo(f"  aligned: {'yes' if report.aligned else 'no'}   one-click: {'yes' if report.one_click else 'no'}"
               f"   links: {len(report.links)}   HTML: {report.html_bytes} bytes")
    for f in sorted(report.findings, key=lambda f: ("block", "warn", "info").index(f.severity)):
        sev = click.style(f"{f.severity:<5}", fg=colours[f.severity])
        title, detail, citation = texts(f, lang)
        click.echo(f"  {sev}  {f.rule_id:<30} {title}" + (f" — {detail}" if detail else "") + f"  [{citation}]")


commands: list[click.Command] = []  # registered on the `check` group above
