"""``auditor dmarc import FILE...`` and ``auditor dmarc fetch`` (the IMAP mailbox)."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli import emit, fail, get_app, migrate


@click.group("dmarc")
def dmarc_group() -> None:
    """DMARC aggregate and SMTP TLS reports."""


@dmarc_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON document on stdout")
def import_reports(files: tuple[Path, ...], as_json: bool) -> None:
    """Store report files (xml, gz, zip, json, eml); exit 1 when any was refused."""
    from auditor.dmarc.services import ingest
    from checks.dmarc_reports import MAX_INPUT_BYTES, ReportRefused

    app = get_app()
    migrate(app)
    out: dict = {"imported": 0, "duplicates": 0, "refused": []}
    for path in files:
        try:
            if path.stat().st_size > MAX_INPUT_BYTES:
                raise ReportRefused(f"file exceeds the {MAX_INPUT_BYTES} byte cap")
            result = ingest(app, path.read_bytes(), via="cli")
        except OSError as exc:
            out["refused"].append({"file": str(path), "reason": f"cannot read: {exc.strerror}"})
            continue
        except ReportRefused as exc:
            out["refused"].append({"file": str(path), "reason": str(exc)})
            continue
        out["imported" if result.status == "imported" else "duplicates"] += 1
        if not as_json:
            s = result.summary
            click.echo(f"{result.status:<9} {s['kind']:<9} {s['org_name']} {s['report_id']} "
                       f"{s['domain']} ({s['records']} records)")
    if as_json:
        emit(out)
    else:
        for r in out["refused"]:
            click.echo(f"refused   {r['file']}: {r['reason']}")
        click.echo(f"{out['imported']} imported, {out['duplicates']} duplicates, {len(out['refused'])} refused")
    if out["refused"]:
        raise click.exceptions.Exit(1)


@dmarc_group.command("fetch")
@click.option("--json", "as_json", is_flag=True, help="one JSON document on stdout")
def fetch_mailbox(as_json: bool) -> None:
    """Read new reports from AUDITOR_DMARC_MAILBOX (IMAP) once; exit 1 when any was refused."""
    from auditor.dmarc.mailbox import MailboxError, mailbox_url, poll_mailbox

    app = get_app()
    migrate(app)
    url = mailbox_url(app)
    if not url:
        fail("AUDITOR_DMARC_MAILBOX is not set")
    try:
        out = poll_mailbox(app, url)
    except MailboxError as exc:
        fail(str(exc))
    if as_json:
        emit(out)
    else:
        click.echo(f"{out['imported']} imported, {out['duplicates']} duplicates, {len(out['refused'])} refused")
    if out["refused"]:
        raise click.exceptions.Exit(1)


commands = [dmarc_group]
