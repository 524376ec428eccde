"""``auditor kpis``: delivery KPIs of the integrations (or sending domains) over a period, with findings."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

import click

from auditor.cli import emit, fail, get_app, migrate
from auditor.delivery.schemas import MAX_DAYS
from auditor.periods import period


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: not a date (YYYY-MM-DD): {value!r}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


@click.command("kpis")
@click.option("--integration", "names", multiple=True, help="one integration (repeatable); default all")
@click.option("--domain", "domains", multiple=True,
              help="a sending domain (repeatable): its campaigns' figures instead of the integrations'")
@click.option("--from", "start", default=None, help="first day (YYYY-MM-DD); default 29 days before --to")
@click.option("--to", "end", default=None, help="last day (YYYY-MM-DD); default today (UTC)")
@click.option("--json", "as_json", is_flag=True)
def kpis(names: tuple[str, ...], domains: tuple[str, ...], start: str | None, end: str | None,
         as_json: bool) -> None:
    """Delivered, bounced, complained per integration and period, against each contractor's SLA;
    or per sending domain (--domain)."""
    from auditor.campaigns.services import current_policy
    from auditor.delivery import services as svc
    from auditor.integrations.services import list_integrations

    try:
        first, last = period(_day(start, "--from"), _day(end, "--to"), max_days=MAX_DAYS)
    except ValueError as exc:
        fail(f"--from / --to: {exc}")
    if domains and names:
        fail("--domain and --integration: give one or the other")
    app = get_app()
    migrate(app)
    policy = current_policy(app)
    out: list[dict[str, Any]] = []
    key = "domain" if domains else "integration"
    with app.extensions["auditor"].sessions() as s:
        wanted = list(domains or names) or [r.name for r in list_integrations(s)]
        for name in wanted:
            try:
                out.append(svc.domain_kpis(s, name, first, last, policy) if domains
                           else svc.integration_kpis(s, name, first, last, policy))
            except svc.DeliveryError as exc:
                fail(str(exc))
    if as_json:
        emit({"from": first.isoformat(), "to": last.isoformat(), f"{key}s": out})
        return
    click.echo(f"{key:<20} {'sent':>9} {'delivered':>9} {'deliv.%':>8} {'bounce%':>8} "
               f"{'compl.%':>8} {'unsub%':>8} findings")
    for k in out:
        c, r = k["counts"], k["rates"]
        rules = ", ".join(sorted({f["rule_id"] for f in k["findings"]})) or "-"
        click.echo(f"{k[key]:<20} {c['sent']:>9} {c['delivered']:>9} {_pct(r['delivery']):>8} "
                   f"{_pct(r['bounce']):>8} {_pct(r['complaint']):>8} {_pct(r['unsubscribe']):>8} {rules}")


@click.command("postmaster-import")
@click.argument("domain")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def postmaster_import(domain: str, file: str, as_json: bool) -> None:
    """Import a Google Postmaster Tools CSV export of DOMAIN's spam rate (another BULK-SPAM-RATE source)."""
    from auditor.db import transaction
    from auditor.delivery.postmaster import PostmasterError, import_csv

    try:
        text = open(file, encoding="utf-8-sig").read()  # noqa: PTH123, SIM115
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    app = get_app()
    migrate(app)
    try:
        with transaction(app.extensions["auditor"].sessions) as s:
            done = import_csv(s, domain.strip().lower().rstrip("."), text)
    except PostmasterError as exc:
        fail(f"{file}: {exc}")
    if as_json:
        emit({"domain": domain, "days": done.days, "bad_lines": done.bad_lines})
    else:
        click.echo(f"{done.days} day(s) imported" + (f"; unreadable lines {done.bad_lines}" if done.bad_lines else ""))
    if done.bad_lines:
        sys.exit(1)


commands = [kpis, postmaster_import]
