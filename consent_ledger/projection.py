"""The current-state projection: the consent state machine, a pure fold of events per
(pseudonym, channel, purpose). docs/ledger.md, "Consent state machine", is its table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from itertools import groupby
from typing import Any

from consent_ledger.events import ConsentState

State = dict[str, Any]  # the ledger_states columns
LIVE = ("granted", "confirmed")
STOPS = ("withdrawn", "erased")
EVERYTHING = ("*", "*")


def evidence_gaps(event: dict[str, Any]) -> list[str]:
    """What a grant's evidence lacks of what CONSENT-EVIDENCE-WEAK asks for.

    Source (URL or IP), claimed time, notice version and notice text hash: the sender bears the
    burden of proof (38-FZ art. 18 p. 1; GDPR art. 7(1)). A sealed IP (v2) counts as present.
    """
    ev = event.get("evidence") or {}
    sealed = (event.get("personal") or {}).get("fields") or ()
    gaps = [] if (ev.get("source_url") or ev.get("ip") or "evidence.ip" in sealed) else ["source_url or ip"]
    gaps += [name for name, value in (("claimed_at", event.get("claimed_at")),
                                      ("notice_version", ev.get("notice_version")),
                                      ("notice_sha256", ev.get("notice_sha256"))) if not value]
    return gaps


def evidence_complete(event: dict[str, Any]) -> bool:
    """Nothing in ``evidence_gaps`` (without building the list: every grant asks, in every
    append and in ``verify``)."""
    ev = event.get("evidence") or {}
    if not (event.get("claimed_at") and ev.get("notice_version") and ev.get("notice_sha256")):
        return False
    return bool(ev.get("source_url") or ev.get("ip")
                or "evidence.ip" in ((event.get("personal") or {}).get("fields") or ()))


def effective(event: dict[str, Any]) -> str:
    """When the event happened: its claimed time, else when the ledger recorded it.

    Never after it was recorded: a claimed time inside the allowed clock skew ahead of the ledger
    must not let a grant outrank an unsubscribe recorded a moment later.
    """
    claimed, recorded = event.get("claimed_at"), event["recorded_at"]
    return claimed if claimed and claimed < recorded else recorded


def _later(a: str | None, b: str | None) -> str | None:
    return b if a is None or (b is not None and b > a) else a  # RFC 3339 strings of one format


def _row(event: dict[str, Any], key: tuple[str, str], status: str, template: State | None) -> State:
    """A fresh row for ``key``; stop times carry over from ``template`` (a covering row)."""
    return {
        "pseudonym": event["pseudonym"], "channel": key[0], "purpose": key[1], "status": status,
        "confirmed": False, "expires_at": None, "last_seq": event["seq"], "updated_at": event["recorded_at"],
        "granted_at": None, "method": None, "evidence_complete": False, "separate_document": None,
        "pre_ticked": None, "bundled": None, "notice_version": None, "legal_basis": None,
        "stopped_at": template["stopped_at"] if template else None,
        "erased_at": template["erased_at"] if template else None,
    }


def _grant(row: State, event: dict[str, Any]) -> None:
    ev = event["evidence"]
    row.update(status="granted", confirmed=False, expires_at=event["expires_at"], last_seq=event["seq"],
               updated_at=event["recorded_at"], granted_at=effective(event), method=event["method"],
               evidence_complete=evidence_complete(event), separate_document=ev["separate_document"],
               pre_ticked=ev["pre_ticked"], bundled=ev["bundled"], notice_version=ev["notice_version"],
               legal_basis=event.get("legal_basis"))


def _covers(key: tuple[str, str], target: tuple[str, str]) -> bool:
    return key[0] in ("*", target[0]) and key[1] in ("*", target[1])


def _stop(rows: dict[tuple[str, str], State], key: tuple[str, str]) -> State | None:
    """The row holding the latest withdrawal or erasure that covers ``key`` (itself included)."""
    best = None
    for k, row in rows.items():
        if row["stopped_at"] and _covers(k, key) and (best is None or row["stopped_at"] > best["stopped_at"]):
            best = row
    return best


def refusal(rows: dict[tuple[str, str], State], event: dict[str, Any]) -> str | None:
    """Why an event is refused outright (not recorded): it is claimed at or before the subject's
    erasure. Recording it would bring back data the subject had erased (152-FZ art. 21; GDPR art. 17)."""
    everything = rows.get(EVERYTHING)
    erased_at = everything["erased_at"] if everything else None
    if event["type"] != "erased" and erased_at and effective(event) <= erased_at:
        return (f"the subject was erased at {erased_at}; an event claimed at {effective(event)}, "
                "before the erasure, cannot be recorded (a grant claimed after it is a fresh start)")
    return None


def apply(rows: dict[tuple[str, str], State], event: dict[str, Any]) -> tuple[list[tuple[str, str]], str | None]:
    """Apply one event to a pseudonym's rows keyed by (channel, purpose).

    Returns the changed keys and, when the event leaves consent as it was, the reason (the
    event is still recorded: the ledger keeps everything).
    """
    kind, t = event["type"], effective(event)
    key = (event["channel"], event["purpose"])
    if kind == "erased":  # erasure ends consent on every channel and purpose
        rows.setdefault(EVERYTHING, _row(event, EVERYTHING, "erased", None))
        for row in rows.values():
            row.update(status="erased", confirmed=False, expires_at=None, last_seq=event["seq"],
                       updated_at=event["recorded_at"], stopped_at=_later(row["stopped_at"], t),
                       erased_at=_later(row["erased_at"], t))
        return list(rows), None
    if kind == "withdrawn":
        return _withdraw(rows, event, key, t)
    old = rows.get(key)
    stop = _stop(rows, key)
    if kind == "granted":
        if stop is not None and t <= stop["stopped_at"]:
            why = (f"ignored: claimed at {t}, not after the {'erasure' if stop['status'] == 'erased' else 'withdrawal'}"
                   f" at {stop['stopped_at']}; a grant restores consent only when claimed after it")
            if old is None:  # the covering withdrawal is this key's state
                rows[key] = _row(event, key, "withdrawn", stop)
                return [key], why
            return [], why
        if old is not None and old["status"] in LIVE and t < old["granted_at"]:
            return [], f"ignored: claimed at {t}, before the current grant claimed at {old['granted_at']}"
        fresh = old is None or old["status"] != "erased"
        row = old if old is not None else rows.setdefault(key, _row(event, key, "granted", stop))
        _grant(row, event)
        everything = rows.get(EVERYTHING)
        if not fresh or (old is None and everything and everything["erased_at"]):
            return [key], f"a fresh start: claimed after the subject's erasure at {row['erased_at']}"
        return [key], None
    # confirmed: confirms a live grant; restores nothing by itself
    if old is None or old["status"] not in LIVE:
        what = "no grant" if old is None else f"consent {old['status']} at {old['stopped_at']}"
        return [], f"ignored: {what} to confirm; a confirmation restores nothing by itself"
    if stop is not None and t <= stop["stopped_at"]:
        return [], f"ignored: claimed at {t}, not after the withdrawal at {stop['stopped_at']}"
    old.update(status="confirmed", confirmed=True, last_seq=event["seq"], updated_at=event["recorded_at"])
    if event["expires_at"]:
        old["expires_at"] = event["expires_at"]
    return [key], None


def _withdraw(rows: dict[tuple[str, str], State], event: dict[str, Any], key: tuple[str, str],
              t: str) -> tuple[list[tuple[str, str]], str | None]:
    """A withdrawal stops every grant it covers that was claimed at or before it."""
    targets = [k for k in rows if _covers(key, k)]
    if key not in rows:  # an objection from someone never recorded as consenting is evidence too
        rows[key] = _row(event, key, "withdrawn", rows.get(EVERYTHING))
        targets.append(key)
    changed, kept = [], []
    for k in targets:
        row = rows[k]
        if row["status"] in LIVE and row["granted_at"] and t < row["granted_at"]:
            kept.append(k)  # a grant claimed after this withdrawal stands (out-of-order delivery)
            continue
        row.update(status="erased" if row["status"] == "erased" and k == EVERYTHING else "withdrawn",
                   confirmed=False, expires_at=None, last_seq=event["seq"], updated_at=event["recorded_at"],
                   stopped_at=_later(row["stopped_at"], t))
        changed.append(k)
    if kept and not changed:
        grant = rows[kept[0]]["granted_at"]
        return [], f"ignored: claimed at {t}, before the current grant claimed at {grant}, which stands"
    return changed, None


def explain(events: Iterable[dict[str, Any]]) -> dict[int, str]:
    """Replay a subject's recorded events: the reason per seq of each one that changed nothing."""
    rows: dict[tuple[str, str], State] = {}
    out = {}
    for ev in events:
        why = apply(rows, ev)[1]
        if why is not None:
            out[ev["seq"]] = why
    return out


def rebuild(conn: Any) -> int:
    """Recompute ``ledger_states`` from ``ledger_events`` (a migration and repairs); returns rows.

    Streams the events in pseudonym order (server-side on PostgreSQL) and writes the rows in
    batches, so a large ledger is rebuilt in bounded memory.
    """
    from consent_ledger import db
    from consent_ledger.schema import STATE_COLUMNS

    conn.exec_driver_sql("DELETE FROM ledger_states")
    written, pending = 0, []
    result = conn.exec_driver_sql("SELECT pseudonym, event FROM ledger_events ORDER BY pseudonym, seq",
                                  execution_options={"stream_results": True, "yield_per": 5000})
    for _p, group in groupby(result, key=lambda r: r[0]):
        rows: dict[tuple[str, str], State] = {}
        for _, text in group:
            apply(rows, json.loads(text))
        pending += [tuple(r[c] for c in STATE_COLUMNS) for r in rows.values()]
        if len(pending) >= 5000:
            db.insert_rows(conn, "ledger_states", STATE_COLUMNS, pending)
            written, pending = written + len(pending), []
    db.insert_rows(conn, "ledger_states", STATE_COLUMNS, pending)
    return written + len(pending)


# The columns a bulk read selects: channel and purpose are the query's own constants.
BULK_COLUMNS = ("pseudonym", "status", "confirmed", "expires_at", "last_seq", "updated_at", "granted_at",
                "method", "evidence_complete", "separate_document", "pre_ticked", "bundled", "notice_version",
                "legal_basis")


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
            bundled, notice, basis in rows:
        e, u, g = seen(expires, seen), seen(updated, seen), seen(granted, seen)
        if e is seen:
            e = times[expires] = fromiso(expires)
        if u is seen:
            u = times[updated] = fromiso(updated)
        if g is seen:
            g = times[granted] = fromiso(granted)
        out[p] = new(cls, (p, channel, purpose, status, bool(confirmed), e, last_seq, u, g, method, bool(complete),
                           separate, pre_ticked, bundled, notice, basis))
    return out
