"""``auditor check domain|zone|ip``: DNS authentication and blocklist audits from the command line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from auditor.cli import emit, fail, get_app


@click.group("check")
def check_group() -> None:
    """Audit domains, zones, IPs, messages and campaigns (exit 1 when anything blocks)."""
    # checkdmarc logs each failed lookup as a warning; the findings already say so, once
    logging.getLogger("checkdmarc").setLevel(logging.ERROR)


def _config(nameserver: str | None = None) -> tuple[Any, list]:
    """(resolver, blocklists) from the configuration, ``--nameserver`` overriding it."""
    from auditor.config import parse_nameservers
    from auditor.services import services
    from checks.blocklists import BlocklistConfigError, parse_blocklists
    from checks.resolver import make_resolver

    settings = services(get_app()).settings
    try:
        servers = parse_nameservers(nameserver or settings.dns_nameservers)
    except ValueError as exc:
        fail(f"--nameserver {nameserver}: {exc}")
    try:
        lists = parse_blocklists(settings.blocklists)
    except BlocklistConfigError as exc:
        fail(f"AUDITOR_BLOCKLISTS: {exc}")
    return make_resolver(servers, settings.dns_timeout), lists


def _valid_ips(ips: tuple[str, ...]) -> tuple[str, ...]:
    import ipaddress

    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            fail(f"--ip {ip}: not an IP address")
    return ips


LANG_OPTION = click.option("--lang", type=click.Choice(["en", "ru"]), default="en", show_default=True,
                           help="language of the titles, details and citations printed")


def texts(f: Any, lang: str) -> tuple[str, str, str]:
    """A finding's (title, detail, citation) in ``lang`` (the catalogue and ``checks.po``)."""
    from checks.catalogue import RULES
    from checks.i18n import detail_of

    r = RULES.get(f.rule_id)
    return (r.title(lang) if r else f.title, detail_of(f, lang), r.cite(lang) if r else f.citation)


def _finish(audit: Any, as_json: bool, lang: str = "en") -> None:
    """Print the audit (JSON or a table by severity) and exit 1 if anything blocks."""
    if as_json:
        emit(audit.to_dict() | {"verdict": "block" if audit.blocked else "pass"})
    else:
        _print_human(audit, lang)
    if audit.blocked:
        raise click.exceptions.Exit(1)


def _print_human(audit: Any, lang: str = "en") -> None:
    from checks.i18n import subject_label

    colours = {"block": "red", "warn": "yellow", "info": "cyan"}
    verdict = click.style("BLOCK", fg="red", bold=True) if audit.blocked else click.style("PASS", fg="green")
    click.echo(f"{audit.kind} {audit.target}: {verdict}  ({len(audit.findings)} findings, "
               f"checked {audit.checked_at:%Y-%m-%d %H:%M:%S} UTC)")
    if audit.findings:
        width = max(len(f.rule_id) for f in audit.findings)
        click.echo(f"  {'SEV':<5}  {'ID':<{width}}  SUBJECT / DETAIL")
        for f in audit.findings:
            sev = click.style(f"{f.severity:<5}", fg=colours[f.severity])
            title, detail, citation = texts(f, lang)
            click.echo(f"  {sev}  {f.rule_id:<{width}}  {subject_label(f.subject, lang)}: {title}")
            if detail:
                click.echo(f"  {'':<5}  {'':<{width}}    {detail}  [{citation}]")
    listed = [b for b in audit.blocklists if b["status"] != "clean"]
    clean = len(audit.blocklists) - len(listed)
    if audit.blocklists:
        click.echo(f"  blocklists: {clean} clean, {len(listed)} listed or failing, of {len(audit.blocklists)} queries")


@check_group.command("domain")
@click.argument("domain")
@click.option("--selector", "selectors", multiple=True, help="DKIM selector (repeatable)")
@click.option("--ip", "ips", multiple=True, help="sending IP (repeatable)")
@click.option("--nameserver", help="IP[:PORT] to query instead of AUDITOR_DNS_NAMESERVERS")
@click.option("--discover-selectors", is_flag=True, help="probe common DKIM selectors as well (and remember them)")
@click.option("--json", "as_json", is_flag=True, help="one JSON document on stdout")
@LANG_OPTION
def check_domain(domain: str, selectors: tuple[str, ...], ips: tuple[str, ...], nameserver: str | None,
                 as_json: bool, lang: str, discover_selectors: bool = False) -> None:
    """SPF, DMARC, DKIM, PTR, MX, MTA-STS, TLS-RPT, BIMI, DNSSEC and blocklists of DOMAIN."""
    from checks.domain_audit import audit_domain

    if "." not in domain.strip(".") or " " in domain:
        fail(f"{domain}: not a domain name")
    resolver, lists = _config(nameserver)
    if discover_selectors:  # issue 18: found selectors are audited too and stored with origin "discovered"
        from auditor.cli import migrate
        from auditor.dmarc.selectors import discover_and_learn

        migrate(get_app())
        selectors = tuple(dict.fromkeys([*selectors, *discover_and_learn(get_app(), domain.strip(".").lower(),
                                                                          resolver)]))
    _finish(audit_domain(domain, selectors=selectors, ips=_valid_ips(ips), resolver=resolver,
                         blocklists=lists), as_json, lang)


@check_group.command("ip")
@click.argument("ip")
@click.option("--nameserver", help="IP[:PORT] to query instead of AUDITOR_DNS_NAMESERVERS")
@click.option("--json", "as_json", is_flag=True, help="one JSON document on stdout")
@LANG_OPTION
def check_ip(ip: str, nameserver: str | None, as_json: bool, lang: str) -> None:
    """PTR, forward-confirmed reverse DNS and the IP blocklists of IP."""
    from checks.domain_audit import audit_ip

    _valid_ips((ip,))
    resolver, lists = _config(nameserver)
    _finish(audit_ip(ip, resolver=resolver, blocklists=lists), as_json, lang)


@check_group.command("zone")
@click.argument("zonefile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--origin", required=True, help="the zone's domain")
@click.option("--selector", "selectors", multiple=True, help="DKIM selector (repeatable)")
@click.option("--ip", "ips", multiple=True, help="sending IP (repeatable)")
@click.option("--blocklist", "blocklists", multiple=True,
              help="KIND:ZONE[=SEVERITY] served by the zone file itself (default: no blocklists)")
@click.option("--json", "as_json", is_flag=True, help="one JSON document on stdout")
@LANG_OPTION
def check_zone(zonefile: Path, origin: str, selectors: tuple[str, ...], ips: tuple[str, ...],
               blocklists: tuple[str, ...], as_json: bool, lang: str) -> None:
    """Audit a proposed zone before publishing it: it is served on loopback and audited there."""
    from checks.blocklists import BlocklistConfigError, parse_blocklists
    from checks.preflight import ZoneError, preflight_zone

    try:
        text = zonefile.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {zonefile}: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{zonefile}: not UTF-8 text")
    try:
        lists = parse_blocklists(",".join(blocklists)) if blocklists else []
    except BlocklistConfigError as exc:
        fail(f"--blocklist: {exc}")
    from auditor.services import services

    try:
        audit = preflight_zone(text, origin.rstrip("."), selectors=selectors, ips=_valid_ips(ips),
                               blocklists=lists, timeout=services(get_app()).settings.dns_timeout)
    except ZoneError as exc:
        fail(f"{zonefile}: {str(exc).splitlines()[0]}")
    _finish(audit, as_json, lang)


commands = [check_group]
