"""``auditor check campaign FILE.json``: the full campaign audit, run locally, nothing stored."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from auditor.cli import emit, fail, get_app, migrate


@click.command("campaign")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON document on stdout")
def check_campaign(file: Path, as_json: bool) -> None:
    """Audit a campaign document (exit 1 if blocked); the same checks as POST /api/v1/campaigns."""
    from auditor.api import loads_limited
    from auditor.campaigns.audit import CampaignInvalid, MalformedMessage
    from auditor.campaigns.schemas import CampaignDocument
    from auditor.campaigns.services import WorkflowError, run_campaign_audit

    try:
        data = loads_limited(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except ValueError as exc:  # also UnicodeDecodeError and TooDeep
        fail(f"{file} is not valid JSON: {exc}")
    try:
        doc = CampaignDocument.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        fail(f"{file}: {'.'.join(str(x) for x in e['loc']) or 'document'}: {e['msg']}")
    app = get_app()
    migrate(app)
    try:
        result = run_campaign_audit(app, doc, data["message"], fresh_posture=True)
    except MalformedMessage as exc:
        fail(f"{file}: malformed message: {exc.problems[0]}")
    except CampaignInvalid as exc:
        fail(f"{file}: {exc.errors[0].get('loc', '')}: {exc.errors[0].get('msg', '')}")
    except WorkflowError as exc:
        fail(exc.detail)
    from auditor.campaigns.coverage import citations, policy_changes

    consent = result.coverage.to_dict()
    consent["citations"] = citations([*consent["reasons"], *consent["warnings"]], doc.jurisdictions, doc.channel)
    consent["policy"] = policy_changes([f.to_dict() for f in result.findings])
    out = {"name": doc.name, "status": result.status, "content_sha256": result.content_sha256,
           "findings": [f.to_dict() for f in result.findings], "consent": consent,
           "checked_at": result.checked_at.isoformat()}
    if as_json:
        emit(out)
    else:
        _print_human(out)
    if result.status == "blocked":
        raise click.exceptions.Exit(1)


def _print_human(out: dict) -> None:
    click.echo(f"{out['name']}: {out['status'].upper()}  (content sha256 {out['content_sha256'][:16]}…)")
    for f in out["findings"]:
        click.echo(f"  {f['severity']:<5} {f['rule_id']:<30} {f['title']}"
                   + (f" — {f['detail']}" if f["detail"] else "") + f"  [{f['citation']}]")
    c = out["consent"]
    reasons = ", ".join(f"{k} {v} [{c['citations'].get(k, '')}]" for k, v in c["reasons"].items()) or "none"
    click.echo(f"  recipients: {c['allowed']} allowed, {c['suppressed']} suppressed ({reasons})")


try:
    from auditor.checking.cli import check_group
except ModuleNotFoundError as exc:  # the DNS area's `check` group is not installed
    if exc.name != "auditor.checking.cli":
        raise
    check_group = None

if check_group is not None:
    check_group.add_command(check_campaign)
    commands: list[click.Command] = []
else:
    @click.group("check")
    def _check() -> None:
        """Audit domains, messages and campaigns."""

    _check.add_command(check_campaign)
    commands = [_check]
