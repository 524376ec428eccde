"""``auditor integrations add|list|remove|import|process``, ``auditor audience``, ``auditor suppressions``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from auditor.cli import emit, fail, get_app, migrate
from auditor.integrations.services import PROVIDERS


def _progress(total: int | None, unit: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)


def _read_mapping(path: Path) -> dict[str, Any]:
    import yaml

    from checks.providers.files import MappingError, check_mapping

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        check_mapping(data)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except yaml.YAMLError as exc:
        fail(f"{path} is not valid YAML: {str(exc).splitlines()[0]}")
    except MappingError as exc:
        fail(f"{path}: {exc}")
    return data


@click.group("integrations")
def integrations() -> None:
    """ESPs and CRMs whose unsubscribes, complaints and bounces come into Auditor."""


@integrations.command("add")
@click.argument("name")
@click.option("--provider", required=True, type=click.Choice(PROVIDERS))
@click.option("--channel", default="email", show_default=True)
@click.option("--purpose", default="marketing", show_default=True)
@click.option("--controller", default=None, help="the organisation the events belong to")
@click.option("--verification-key", "key_file", type=click.Path(dir_okay=False, path_type=Path),
              help="sendgrid: a file with the Event Webhook public key (base64 DER)")
@click.option("--api-key-stdin", is_flag=True, help="unisender: read the API key from stdin")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path),
              help="csv: a YAML file naming the columns")
@click.option("--json", "as_json", is_flag=True)
def add(name: str, provider: str, channel: str, purpose: str, controller: str | None, key_file: Path | None,
        api_key_stdin: bool, mapping_file: Path | None, as_json: bool) -> None:
    """Configure an integration; prints its webhook URL once (it holds a secret token)."""
    from auditor.db import transaction
    from auditor.integrations import services as svc
    from auditor.services import services

    secret = None
    if key_file is not None:
        try:
            secret = key_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {key_file}: {getattr(exc, 'strerror', None) or exc}")
    if api_key_stdin:
        secret = sys.stdin.readline().strip() or fail("no API key on stdin")
    mapping = _read_mapping(mapping_file) if mapping_file else None
    app = get_app()
    migrate(app)
    try:
        with transaction(services(app).sessions) as s:
            row, token = svc.create_integration(s, name=name, provider=provider, channel=channel, purpose=purpose,
                                                controller=controller, secret=secret, mapping=mapping, actor="cli")
            out = {"id": row.id, "name": row.name, "provider": row.provider,
                   "webhook_url": svc.webhook_url(app, provider, token) if provider != "csv" else None}
    except svc.IntegrationError as exc:
        fail(str(exc))
    if as_json:
        emit(out)
    else:
        click.echo(f"integration {out['name']} ({provider}) added")
        if out["webhook_url"]:
            click.echo(f"webhook URL (shown once; keep it secret): {out['webhook_url']}")


@integrations.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json: bool) -> None:
    """The integrations (never their secrets)."""
    from auditor.integrations import services as svc
    from auditor.services import services

    app = get_app()
    migrate(app)
    with services(app).sessions() as s:
        counts = svc.inbox_counts(s)
        rows = [svc.describe(r, counts.get(r.id)) for r in svc.list_integrations(s)]
    if as_json:
        emit({"integrations": rows})
        return
    for r in rows:
        inbox = ", ".join(f"{k} {v}" for k, v in sorted(r["inbox"].items())) or "no requests yet"
        click.echo(f"{r['name']:<24} {r['provider']:<10} {r['channel']}/{r['purpose']}  inbox: {inbox}")


@integrations.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Delete an integration: its webhook URL stops working (the ledger keeps what it caused)."""
    from auditor.db import transaction
    from auditor.integrations import services as svc
    from auditor.services import services

    app = get_app()
    migrate(app)
    try:
        with transaction(services(app).sessions) as s:
            svc.remove_integration(s, name)
    except svc.IntegrationError as exc:
        fail(str(exc))
    click.echo(f"integration {name} removed")


@integrations.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def import_(name: str, file: Path, as_json: bool) -> None:
    """Import the provider's suppression/unsubscribe export (or a CRM export); exit 1 if rows are bad."""
    from auditor.integrations import services as svc
    from auditor.integrations.imports import run_import
    from auditor.services import services
    from checks.providers.files import MappingError

    app = get_app()
    migrate(app)
    try:
        with services(app).sessions() as s:
            integration = svc.get_integration(s, name)
    except svc.IntegrationError as exc:
        fail(str(exc))
    try:
        with open(file, encoding="utf-8-sig", newline="") as fh, _progress(None, "rows") as bar:
            report = run_import(app, integration, fh, progress=bar.update)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    except MappingError as exc:
        fail(f"{file}: {exc}")
    out = report.to_dict()
    if as_json:
        emit(out)
    else:
        click.echo(f"{out['rows']} rows: {out['events']} events, {out['skipped']} without action, "
                   f"{out['withdrawn']} withdrawn, {out['hard_bounces']} hard bounces, {out['bad_rows']} bad")
        for b in report.bad[:50]:
            click.echo(f"  line {b['line']}: {b['reason']}", err=True)
    if report.bad:
        raise click.exceptions.Exit(1)


@integrations.command("process")
@click.option("--json", "as_json", is_flag=True)
def process(as_json: bool) -> None:
    """Process webhook requests still waiting in the inbox (after a broker or worker outage)."""
    from auditor.integrations.tasks import sweep

    app = get_app()
    migrate(app)
    states = sweep(app)
    emit(states) if as_json else click.echo(", ".join(f"{k} {v}" for k, v in states.items()) or "nothing waiting")


def _open_out(out: Path | None) -> Any:
    return open(out, "w", encoding="utf-8", newline="") if out else click.get_text_stream("stdout")  # noqa: SIM115


@click.command("audience")
@click.argument("campaign_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def audience(campaign_id: int, fmt: str, out: Path | None) -> None:
    """Who the gate allows now for an approved campaign, with unsubscribe URLs, for an ESP upload."""
    from auditor.integrations import exports

    app = get_app()
    migrate(app)
    rows = exports.audience(app, campaign_id)
    try:
        first = next(rows, None)
    except LookupError as exc:
        fail(str(exc))
    except exports.NotApproved as exc:
        click.echo(f"campaign {campaign_id}: {exc}", err=True)
        raise click.exceptions.Exit(1) from None

    def chained():
        if first is not None:
            yield first
        yield from rows

    fh = _open_out(out)
    try:
        for line in exports.audience_lines(chained(), fmt):
            fh.write(line)
    finally:
        if out:
            fh.close()


@click.command("suppressions")
@click.option("--since", default=None, help="RFC 3339 time with a zone (default: everything)")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def suppressions(since: str | None, fmt: str, out: Path | None) -> None:
    """Everyone withdrawn, complained, hard-bounced or erased since a time (for ESP suppression lists)."""
    from auditor.integrations import exports

    when = None
    if since:
        try:
            when = datetime.fromisoformat(since)
        except ValueError:
            fail(f"--since: not an RFC 3339 time: {since!r}")
        if when.tzinfo is None:
            fail("--since: give a time zone (e.g. Z or +03:00)")
    app = get_app()
    migrate(app)
    fh = _open_out(out)
    try:
        for line in exports.suppression_lines(exports.suppressions(app, when), fmt):
            fh.write(line)
    finally:
        if out:
            fh.close()


commands: list[click.Command] = [integrations, audience, suppressions]
