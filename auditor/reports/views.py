"""PDF report downloads for the UI, and background reports when a broker is configured."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    request,
    send_file,
    session,
    url_for,
)

from auditor.auth import current_principal, requires_role
from auditor.reports.services import (
    ReportInputError,
    ReportNotFound,
    build_pdf,
    job_status,
    jobs_folder,
    start_job,
)
from auditor.services import services

bp = Blueprint("reports", __name__, url_prefix="/reports")
REVIEWERS = ("legal", "security")


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)


def _lang() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in ("en", "ru"):
        return chosen
    return request.accept_languages.best_match(("en", "ru")) or "en"


def _background(kind: str) -> bool:
    """Period reports (and any with ?background=1) go to the workers when a broker is set."""
    if not services().settings.broker_url:
        return False
    return kind == "period" or request.args.get("background") == "1"


def _serve(kind: str, params: dict[str, Any], filename: str) -> Response:
    principal = current_principal()
    lang = _lang()
    if _background(kind):
        job_id = start_job(current_app, kind, params, lang, principal.user_id, principal.actor)
        return redirect(url_for("reports.job", job_id=job_id), code=303)
    try:
        pdf = build_pdf(current_app, kind, params, lang, principal.actor)
    except ReportNotFound as exc:
        abort(404, str(exc))
    except ReportInputError as exc:
        abort(400, str(exc))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


@bp.get("/campaign/<int:campaign_id>.pdf")
@requires_role(*REVIEWERS)
def campaign(campaign_id: int) -> Response:
    """The campaign audit report."""
    return _serve("campaign", {"id": campaign_id}, f"campaign-{campaign_id}.pdf")


@bp.get("/domain/<domain>.pdf")
@requires_role(*REVIEWERS)
def domain(domain: str) -> Response:
    """The domain posture report (optional ?from=&to= for the history)."""
    return _serve("domain", {"domain": domain, "from": request.args.get("from"), "to": request.args.get("to")},
                  f"domain-{domain}.pdf")


@bp.get("/subject.pdf")
@requires_role("legal")
def subject() -> Response:
    """A data subject's consent report (?q=address or phone); personal data: legal (DPO) only."""
    q = (request.args.get("q") or "").strip()
    if not q:
        abort(400, "give ?q=<email or phone>")
    return _serve("subject", {"q": q}, "subject.pdf")


@bp.get("/period.pdf")
@requires_role(*REVIEWERS)
def period() -> Response:
    """The period report (?from=YYYY-MM-DD&to=YYYY-MM-DD)."""
    since, until = request.args.get("from"), request.args.get("to")
    if not since or not until:
        abort(400, "give ?from=YYYY-MM-DD&to=YYYY-MM-DD")
    return _serve("period", {"from": since, "to": until}, f"period-{since}-{until}.pdf")


def _own_job(job_id: str) -> dict[str, Any]:
    info = job_status(current_app, job_id)
    principal = current_principal()
    if info is None or (info["owner"] != principal.user_id and principal.role != "admin"):
        abort(404)
    return info


@bp.get("/jobs/<job_id>")
@requires_role(*REVIEWERS)
def job(job_id: str) -> Response:
    """Status of a background report: JSON, or the PDF link once done."""
    info = _own_job(job_id)
    body = {k: info[k] for k in ("id", "kind", "status", "requested_at") if k in info}
    if info["status"] == "failed":
        body["error"] = info["error"]
    if info["status"] == "done":
        body["download"] = url_for("reports.job_pdf", job_id=job_id)
    resp = current_app.json.response(body)
    if info["status"] == "pending":
        resp.headers["Refresh"] = "3"
    return resp


@bp.get("/jobs/<job_id>.pdf")
@requires_role(*REVIEWERS)
def job_pdf(job_id: str) -> Response:
    """The PDF of a finished background report."""
    info = _own_job(job_id)
    if info["status"] != "done":
        abort(409, f"the report is {info['status']}")
    return send_file(jobs_folder(current_app) / f"{job_id}.pdf", mimetype="application/pdf",
                     as_attachment=True, download_name=f"{info['kind']}-report.pdf")
