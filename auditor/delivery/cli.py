"""``auditor kpis``: delivery KPIs of the integrations over a period, with SLA findings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from auditor.cli import emit, fail, get_app, migrate


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
@click.option("--from", "start", default=None, help="first day (YYYY-MM-DD); default 29 days before --to")
@click.option("--to", "end", default=None, help="last day (YYYY-MM-DD); default today (UTC)")
@click.option("--json", "as_json", is_flag=True)
def kpis(names: tuple[str, ...], start: str | None, end: str | None, as_json: bool) -> None:
    """Delivered, bounced, complained per integration and period, against each contractor's SLA."""
    from auditor.campaigns.services import current_policy
    from auditor.delivery import services as svc
    from auditor.integrations.services import list_integrations

    last = _day(end, "--to") or datetime.now(UTC).date()
    first = _day(start, "--from") or last - timedelta(days=29)
    if first > last:
        fail("--from is after --to")
    app = get_app()
    migrate(app)
    policy = current_policy(app)
    out: list[dict[str, Any]] = []
    with app.extensions["auditor"].sessions() as s:
        wanted = list(names) or [r.name for r in list_integrations(s)]
        for name in wanted:
            try:
                out.append(svc.integration_kpis(s, name, first, last, policy))
            except svc.DeliveryError as exc:
                fail(str(exc))
    if as_json:
        emit({"from": first.isoformat(), "to": last.isoformat(), "integrations": out})
        return
    click.echo(f"{'integration':<20} {'sent':>9} {'delivered':>9} {'deliv.%':>8} {'bounce%':>8} "
               f"{'compl.%':>8} {'unsub%':>8} findings")
    for k in out:
        c, r = k["counts"], k["rates"]
        rules = ", ".join(sorted({f["rule_id"] for f in k["findings"]})) or "-"
        click.echo(f"{k['integration']:<20} {c['sent']:>9} {c['delivered']:>9} {_pct(r['delivery']):>8} "
                   f"{_pct(r['bounce']):>8} {_pct(r['complaint']):>8} {_pct(r['unsubscribe']):>8} {rules}")


commands = [kpis]
