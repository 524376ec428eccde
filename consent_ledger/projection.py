"""The current-state projection: a pure fold of events per (pseudonym, channel, purpose)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from consent_ledger.events import ConsentState

State = dict[str, Any]  # the ledger_states columns


def evidence_gaps(event: dict[str, Any]) -> list[str]:
    """What a grant's evidence lacks of what CONSENT-EVIDENCE-WEAK asks for.

    Source (URL or IP), claimed time, notice version and notice text hash: the sender bears the
    burden of proof (38-FZ art. 18 p. 1; GDPR art. 7(1)).
    """
    ev = event.get("evidence") or {}
    gaps = [] if (ev.get("source_url") or ev.get("ip")) else ["source_url or ip"]
    gaps += [name for name, value in (("claimed_at", event.get("claimed_at")),
                                      ("notice_version", ev.get("notice_version")),
                                      ("notice_sha256", ev.get("notice_sha256"))) if not value]
    return gaps


def evidence_complete(event: dict[str, Any]) -> bool:
    """Nothing in ``evidence_gaps``."""
    return not evidence_gaps(event)


def _grant(event: dict[str, Any], confirmed: bool) -> State:
    ev = event["evidence"]
    return {
        "pseudonym": event["pseudonym"], "channel": event["channel"], "purpose": event["purpose"],
        "status": "confirmed" if confirmed else "granted", "confirmed": confirmed,
        "expires_at": event["expires_at"], "last_seq": event["seq"],
        "updated_at": event["recorded_at"],
        "granted_at": event["claimed_at"] or event["recorded_at"], "method": event["method"],
        "evidence_complete": evidence_complete(event),
        "separate_document": ev["separate_document"], "pre_ticked": ev["pre_ticked"],
        "bundled": ev["bundled"], "notice_version": ev["notice_version"],
    }


def apply(rows: dict[tuple[str, str], State], event: dict[str, Any]) -> list[tuple[str, str]]:
    """Apply one event to a pseudonym's rows keyed by (channel, purpose); returns changed keys."""
    kind = event["type"]
    if kind == "erased":  # erasure ends consent on every channel and purpose
        for row in rows.values():
            row.update(status="erased", confirmed=False, expires_at=None,
                       last_seq=event["seq"], updated_at=event["recorded_at"])
        return list(rows)
    key = (event["channel"], event["purpose"])
    old = rows.get(key)
    if kind == "granted":
        rows[key] = _grant(event, False)
    elif kind == "confirmed":
        if old is not None and old["status"] in ("granted", "confirmed"):
            old.update(status="confirmed", confirmed=True, last_seq=event["seq"],
                       updated_at=event["recorded_at"])
            if event["expires_at"]:
                old["expires_at"] = event["expires_at"]
        else:  # a confirmation without a live grant stands for both
            rows[key] = _grant(event, True)
    else:  # withdrawn
        if old is None:  # an objection from someone never recorded as consenting
            old = rows[key] = _grant(event, False)
            old["granted_at"] = None
        old.update(status="withdrawn", confirmed=False, expires_at=None,
                   last_seq=event["seq"], updated_at=event["recorded_at"])
    return [key]


# The columns a bulk read selects: channel and purpose are the query's own constants.
BULK_COLUMNS = ("pseudonym", "status", "confirmed", "expires_at", "last_seq", "updated_at", "granted_at",
                "method", "evidence_complete", "separate_document", "pre_ticked", "bundled", "notice_version")


def bulk_states(rows: Iterable[tuple], channel: str, purpose: str) -> dict[str, ConsentState]:
    """ConsentState per pseudonym from rows in BULK_COLUMNS order, for one channel and purpose.

    The one place a stored row becomes a state (``states_of`` uses it too), written for 100,000
    rows a call (the gate's lookup): locals bound once, each distinct stored time parsed once (a
    dict for the call: recording times repeat per appended batch, grant times per signup form),
    the tuple built without the named tuple's keyword-handling constructor.
    """
    new, cls, fromiso = tuple.__new__, ConsentState, datetime.fromisoformat
    times: dict[str | None, datetime | None] = {None: None, "": None}
    seen = times.get
    out: dict[str, ConsentState] = {}
    for p, status, confirmed, expires, last_seq, updated, granted, method, complete, separate, pre_ticked, \
            bundled, notice in rows:
        e, u, g = seen(expires, seen), seen(updated, seen), seen(granted, seen)
        if e is seen:
            e = times[expires] = fromiso(expires)
        if u is seen:
            u = times[updated] = fromiso(updated)
        if g is seen:
            g = times[granted] = fromiso(granted)
        out[p] = new(cls, (p, channel, purpose, status, bool(confirmed), e, last_seq, u, g, method, bool(complete),
                           separate, pre_ticked, bundled, notice))
    return out
