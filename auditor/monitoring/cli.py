"""``auditor monitor add|list|remove|run`` and ``auditor worker``."""

from __future__ import annotations

from typing import Any

import click

from auditor.cli import emit, fail, get_app, migrate
from auditor.db import transaction
from auditor.monitoring import services as svc
from auditor.services import services

KINDS = click.Choice(["domain", "ip", "selector"])


def _split_selector(value: str, domain: str | None) -> tuple[str, str]:
    if domain:
        return domain, value
    if ":" not in value:
        fail("a selector is DOMAIN:SELECTOR, or SELECTOR with --domain DOMAIN")
    d, _, s = value.partition(":")
    return d, s


@click.group("monitor")
def monitor_group() -> None:
    """Monitored domains, DKIM selectors and IPs; scheduled audits with history and alerts."""


@monitor_group.command("add")
@click.argument("kind", type=KINDS)
@click.argument("value")
@click.option("--domain", help="the domain of a selector (instead of DOMAIN:SELECTOR)")
@click.option("--selector", "selectors", multiple=True, help="a DKIM selector of the domain (repeatable)")
@click.option("--ip", "ips", multiple=True, help="a sending IP of the domain (repeatable)")
@click.option("--interval", type=int, help=f"minutes between audits (default {svc.DEFAULT_INTERVAL_MINUTES})")
@click.option("--json", "as_json", is_flag=True)
def monitor_add(kind: str, value: str, domain: str | None, selectors: tuple[str, ...], ips: tuple[str, ...],
                interval: int | None, as_json: bool) -> None:
    """Watch a domain (with --selector/--ip), an IP, or a selector of a domain."""
    app = get_app()
    migrate(app)
    if kind == "selector":
        domain, sel = _split_selector(value, domain)
        kind, value, selectors = "domain", domain, (*selectors, sel)
    elif domain:
        fail("--domain belongs to 'monitor add selector'")
    try:
        with transaction(services(app).sessions) as s:
            asset, created = svc.add_asset(s, kind, value, selectors=selectors, ips=ips, interval_minutes=interval)
            view = asset.to_dict()
    except svc.MonitoringError as exc:
        fail(str(exc))
    if as_json:
        emit({**view, "created": created})
        return
    click.echo(f"{'added' if created else 'updated'} {_line(view)}")


@monitor_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def monitor_list(as_json: bool) -> None:
    """List monitored assets with their next due time."""
    app = get_app()
    migrate(app)
    with services(app).sessions() as s:
        rows = [a.to_dict() for a in svc.list_assets(s)]
    if as_json:
        emit(rows)
        return
    if not rows:
        click.echo("nothing is monitored: auditor monitor add domain example.org --selector s1 --ip 192.0.2.10")
    for r in rows:
        click.echo(_line(r))


@monitor_group.command("remove")
@click.argument("kind", type=KINDS)
@click.argument("value")
@click.option("--domain", help="the domain of a selector (instead of DOMAIN:SELECTOR)")
def monitor_remove(kind: str, value: str, domain: str | None) -> None:
    """Stop watching an asset, or one selector of a domain (the history is kept)."""
    app = get_app()
    migrate(app)
    selector = None
    if kind == "selector":
        value, selector = _split_selector(value, domain)
        kind = "domain"
    try:
        with transaction(services(app).sessions) as s:
            svc.remove_asset(s, kind, value, selector=selector)
    except svc.MonitoringError as exc:
        fail(str(exc))
    click.echo(f"stopped monitoring {'selector ' + selector + ' of ' if selector else ''}{kind} {value}")


@monitor_group.command("run")
@click.option("--due-only", is_flag=True, help="only assets whose interval has elapsed (for cron)")
@click.option("--json", "as_json", is_flag=True)
def monitor_run(due_only: bool, as_json: bool) -> None:
    """Audit monitored assets now (inline), or enqueue them when AUDITOR_BROKER_URL is set; exit 1 if an
    audit failed or an alert could not be delivered."""
    from auditor.monitoring.scheduler import run_due

    app = get_app()
    migrate(app)
    report = run_due(app, due_only=due_only)
    if as_json:
        emit(report.to_dict())
    else:
        _print_report(report.to_dict())
    undelivered = _undelivered(report.to_dict())
    for line in undelivered:
        click.echo(line, err=True)
    if report.errors or undelivered:
        raise click.exceptions.Exit(1)


def _undelivered(r: dict[str, Any]) -> list[str]:
    """One stderr line per alert this run could not deliver, naming its channel."""
    out = [f"alert by {a['channel']} for {res['target']} not delivered: {a.get('error') or a['status']}"
           for res in r["results"] for a in res["alerts"] if a["status"] != "sent"]
    out += [f"earlier alert {a['id']} by {a['channel']} not delivered: {a.get('error') or a['status']}"
            for a in r["alerts_retried"] if a["status"] != "sent"]
    return out


def _print_report(r: dict[str, Any]) -> None:
    if not r["claimed"]:
        click.echo("nothing due")
    for e in r["enqueued"]:
        click.echo(f"asset {e['asset_id']}: enqueued (task {e['task_id']})")
    for res in r["results"]:
        s = res["summary"]
        head = f"{res['target']}: {s['block']} block, {s['warn']} warn, {s['info']} info"
        if res["baseline"]:
            head += " (first check)"
        click.echo(head + ("" if res["changes"] else "; no change"))
        for c in res["changes"]:
            click.echo(f"  - {c['text']}")
        for a in res["alerts"]:
            click.echo(f"  alert by {a['channel']}: {a['status']}{': ' + a['error'] if a['error'] else ''}")
    for e in r["errors"]:
        click.echo(f"asset {e['asset_id']}: failed: {e['error']}", err=True)
    for a in r["alerts_retried"]:
        click.echo(f"earlier alert {a['id']} by {a['channel']}: {a['status']}")


def _line(a: dict[str, Any]) -> str:
    extra = []
    if a["selectors"]:
        extra.append("selectors " + ",".join(a["selectors"]))
    if a["ips"]:
        extra.append("IPs " + ",".join(a["ips"]))
    state = "" if a["enabled"] else " (disabled)"
    return (f"{a['id']:>4}  {a['kind']:<6} {a['value']}  {'; '.join(extra)}  every {a['interval_minutes']} min,"
            f" next {a['next_due']:%Y-%m-%d %H:%M}{state}")


@click.command("worker")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--pool", default="threads", show_default=True, type=click.Choice(["threads", "solo", "prefork"]))
@click.option("--loglevel", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def worker(concurrency: int, pool: str, loglevel: str) -> None:
    """Run a Celery worker for monitoring and report jobs (needs AUDITOR_BROKER_URL)."""
    from auditor.jobs import run_worker

    app = get_app()
    if not services(app).settings.broker_url:
        fail("AUDITOR_BROKER_URL is not set: set it to redis://... or amqp://... to use workers "
             "(without it, 'auditor monitor run' audits inline)")
    migrate(app)
    run_worker(app, concurrency=concurrency, pool=pool, loglevel=loglevel.upper())


commands = [monitor_group, worker]
