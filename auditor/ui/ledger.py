"""Consent ledger pages: a person's state and history, proofs, erasure, ledger status."""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from auditor.accounts.models import AuditEntry
from auditor.accounts.services import record
from auditor.auth import current_principal, requires_role
from auditor.db import transaction
from auditor.ledger.services import get_ledger
from auditor.services import db, services
from auditor.ui import bp
from auditor.ui.access import CONSENT_READERS, ERASERS, LEDGER_STATUS
from consent_ledger import InvalidIdentifier
from consent_ledger.identifiers import is_pseudonym
from consent_ledger.projection import evidence_gaps, explain


def _pseudonym(q: str) -> str:
    """The pseudonym of an address, a phone number (or a pseudonym as given), computed here."""
    if is_pseudonym(q):
        return q
    return get_ledger().pseudonym_of(q, "email" if "@" in q else "*")  # "*": the error names every form


@bp.get("/ledger")
@requires_role(*CONSENT_READERS)
def ledger() -> str | tuple[str, int]:
    """Search a person by email or phone: current state per channel and purpose, and history."""
    q = request.args.get("q", "").strip()[:320]
    if not q:
        return render_template("ui/ledger.html", q=q, p=None)
    try:
        p = _pseudonym(q)
    except InvalidIdentifier as exc:
        flash(_("Not an email address or phone number: %(why)s", why=str(exc)), "danger")
        return render_template("ui/ledger.html", q=q, p=None), 422
    led = get_ledger()
    history = led.history(p)
    gaps = {e["seq"]: evidence_gaps(e) for e in history if e.get("type") in ("granted", "confirmed")}
    from auditor.integrations.services import withdrawal_sources

    # What the state machine made of each event: the warning its append was answered with.
    effects = explain(led.history(p, as_hashed=True))
    return render_template("ui/ledger.html", q=q, p=p, states=led.states_of(p), history=list(reversed(history)),
                           gaps=gaps, effects=effects, sources=withdrawal_sources(db(), history),
                           erased=bool(history) and history[-1].get("type") == "erased")


@bp.get("/ledger/proof/<int:seq>")
@requires_role(*CONSENT_READERS)
def ledger_proof(seq: int) -> Response:
    """The inclusion proof of one event as a JSON file (verifiable offline)."""
    try:
        doc = get_ledger().inclusion_proof(seq)
    except (LookupError, ValueError):
        abort(404)
    return Response(json.dumps(doc, indent=2, sort_keys=True), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="inclusion-proof-{seq}.json"'})


@bp.post("/ledger/erase")
@requires_role(*ERASERS)
def ledger_erase() -> Response:
    """Crypto-shred a person's identity and append ``erased`` (152-FZ art. 21, GDPR art. 17)."""
    q = request.form.get("q", "").strip()
    reason = request.form.get("reason", "").strip()
    if request.form.get("confirm") != "yes" or not reason:
        flash(_("Erasure needs a reason and the confirmation box ticked."), "danger")
        return redirect(url_for("ui.ledger", q=q), 303)
    principal = current_principal()
    try:
        p = _pseudonym(q)
        done = get_ledger().erase(p, principal.actor, reason)
    except (InvalidIdentifier, LookupError):
        abort(404)
    _log(principal.actor, "ledger.erase", f"pseudonym:{p}", seq=done.seq, reason=reason,
         noop=done.warning is not None)
    if done.warning:
        flash(_("Already erased: event %(seq)s records it; nothing was done.", seq=done.seq), "info")
    else:
        flash(_("Erased: the identity is destroyed and event %(seq)s records it.", seq=done.seq), "success")
    return redirect(url_for("ui.ledger", q=p), 303)


def _log(actor: str, action: str, target: str, **detail: object) -> None:
    # A fresh transaction: the request session's snapshot predates the ledger's write, and
    # SQLite (WAL) refuses to upgrade such a stale read to a write.
    db().rollback()
    with transaction(services().sessions) as s:
        record(s, actor, action, target, **detail)


def _last_verify() -> AuditEntry | None:
    return db().scalar(select(AuditEntry).where(AuditEntry.action == "ledger.verify")
                       .order_by(AuditEntry.id.desc()).limit(1))


@bp.get("/ledger/status")
@requires_role(*LEDGER_STATUS)
def ledger_status() -> str:
    """Size, latest signed checkpoint and the last verification."""
    led = get_ledger()
    return render_template("ui/ledger_status.html", size=led.size(), checkpoint=led.latest_checkpoint(),
                           last=_last_verify())


@bp.post("/ledger/verify")
@requires_role(*LEDGER_STATUS)
def ledger_verify() -> Response:
    """Recompute the whole ledger now and log the outcome."""
    report = get_ledger().verify()
    _log(current_principal().actor, "ledger.verify", "ledger", ok=report.ok, size=report.size,
         first_bad_seq=report.first_bad_seq, problem=report.problem,
         checkpoints_checked=report.checkpoints_checked)
    if report.ok:
        flash(_("The ledger verified: %(n)s events intact.", n=report.size), "success")
    else:
        flash(_("Verification FAILED at event %(seq)s: %(problem)s", seq=report.first_bad_seq,
                problem=report.problem), "danger")
    return redirect(url_for("ui.ledger_status"), 303)
