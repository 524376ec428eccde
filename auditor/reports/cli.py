"""``auditor report campaign|domain|subject|period``: write a PDF audit report."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import click

from auditor.cli import emit, fail, get_app, migrate

_LANG = click.option("--lang", type=click.Choice(["en", "ru"]), default="en", show_default=True,
                     help="language of the report")
_OUT = click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                    help="the PDF file to write")
_JSON = click.option("--json", "as_json", is_flag=True, help="print {report, out, bytes, sha256}")
_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _write(kind: str, out: Path, as_json: bool, build: Callable[[], bytes]) -> None:
    """Build the PDF, write it, and say where; service errors become one line and exit 2."""
    from auditor.reports.services import ReportInputError, ReportNotFound

    try:
        pdf = build()
    except (ReportNotFound, ReportInputError, ValueError) as exc:
        fail(str(exc))
    try:
        out.write_bytes(pdf)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    if as_json:
        emit({"report": kind, "out": str(out), "bytes": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()})
    else:
        click.echo(f"wrote {kind} report to {out} ({len(pdf)} bytes)", err=True)


def _app():
    app = get_app()
    migrate(app)
    return app


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@click.group("report")
def report_group() -> None:
    """PDF audit reports: campaign, domain, data subject, period."""


@report_group.command("campaign")
@click.argument("campaign_id", type=int)
@_OUT
@_LANG
@_JSON
def campaign(campaign_id: int, out: Path, lang: str, as_json: bool) -> None:
    """Verdict, reviews, findings, consent coverage, posture and approval token of a campaign."""
    from auditor.reports.services import campaign_data
    from reports import campaign_pdf

    app = _app()
    _write("campaign", out, as_json, lambda: campaign_pdf(campaign_data(app, campaign_id, "cli"), lang))


@report_group.command("domain")
@click.argument("domain")
@click.option("--from", "since", type=_DATE, help="history from this day (YYYY-MM-DD)")
@click.option("--to", "until", type=_DATE, help="history to this day, inclusive")
@_OUT
@_LANG
@_JSON
def domain(domain: str, since: datetime | None, until: datetime | None, out: Path, lang: str,
           as_json: bool) -> None:
    """Current posture with fixes, blocklists and the history of changes of a domain."""
    from auditor.reports.services import domain_data
    from reports import domain_pdf

    app = _app()
    _write("domain", out, as_json,
           lambda: domain_pdf(domain_data(app, domain, _day(since), _day(until), "cli"), lang))


@report_group.command("subject")
@click.argument("subject")
@_OUT
@_LANG
@_JSON
def subject(subject: str, out: Path, lang: str, as_json: bool) -> None:
    """A person's consent history with each event's inclusion proof embedded (verifiable offline)."""
    from auditor.reports.services import subject_data
    from reports import subject_pdf

    app = _app()
    _write("subject", out, as_json, lambda: subject_pdf(subject_data(app, subject, "cli"), lang))


@report_group.command("period")
@click.option("--from", "since", type=_DATE, required=True, help="first day (YYYY-MM-DD)")
@click.option("--to", "until", type=_DATE, required=True, help="last day, inclusive")
@_OUT
@_LANG
@_JSON
def period(since: datetime, until: datetime, out: Path, lang: str, as_json: bool) -> None:
    """Campaigns audited, approved and blocked, top findings, unsubscribes, posture changes."""
    from auditor.reports.services import period_data
    from reports import period_pdf

    app = _app()
    _write("period", out, as_json,
           lambda: period_pdf(period_data(app, since.date(), until.date(), "cli"), lang))


commands = [report_group]
