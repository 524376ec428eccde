"""JSON API of the ledger: record consent, read a subject, checkpoints, proofs, erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from auditor.api import route
from auditor.errors import ApiError
from auditor.ledger.schemas import (
    AppendedList,
    CheckpointOut,
    ConsentsBody,
    ConsistencyProofOut,
    ConsistencyQuery,
    EraseBody,
    InclusionProofOut,
    InclusionQuery,
    SubjectOut,
)
from auditor.ledger.services import get_ledger
from consent_ledger import InvalidEvent, InvalidIdentifier
from consent_ledger.identifiers import is_pseudonym

TAGS = ("ledger",)


def _appended(done: list) -> dict[str, Any]:
    return {"events": [{k: v for k, v in vars(a).items() if k != "index"} for a in done],
            "seqs": [a.seq for a in done],
            "warnings": [{"index": a.index or 0, "seq": a.seq, "warning": a.warning} for a in done if a.warning]}


@route("/consents", methods=("POST",), scope="consent:write", summary="Record one consent event or a batch",
       body=ConsentsBody, response=AppendedList, status=201, tags=TAGS)
def record_consents(principal, body: ConsentsBody) -> dict[str, Any]:
    """Append the event(s); a batch with any bad item is refused whole, items named by index."""
    items, batch = body.items()
    try:
        done = get_ledger().append([i.to_event() for i in items], principal.actor)
    except InvalidEvent as exc:
        prefix = "events." if batch else ""
        raise ApiError(422, "Invalid consent event", str(exc), errors=[
            {"loc": f"{prefix}{e['index']}.{e['field']}" if prefix else e["field"], "index": e["index"],
             "msg": e["message"], "type": "value_error"} for e in exc.errors]) from None
    return _appended(done)


def _pseudonym(subject: str) -> str:
    ledger = get_ledger()
    if is_pseudonym(subject):
        return subject
    try:
        return ledger.pseudonym_of(subject, "email" if "@" in subject else "*")  # "*": says what was expected
    except InvalidIdentifier as exc:
        raise ApiError(422, "Invalid subject", str(exc)) from None


@route("/consents/<subject>", scope="consent:read", summary="A subject's current consent and history",
       response=SubjectOut, tags=TAGS)
def read_consents(principal, subject: str) -> dict[str, Any]:
    """Current state per channel and purpose, and every event, by address, number or pseudonym."""
    p = _pseudonym(subject)
    ledger = get_ledger()
    history = ledger.history(p)
    if not history:
        raise ApiError(404, "Not Found", "the ledger holds no events for this subject")
    states = [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in s._asdict().items() if k != "pseudonym"}
              for s in ledger.states_of(p)]
    return {"pseudonym": p, "states": states, "history": history}


@route("/ledger/checkpoint", scope="ledger:read", summary="The latest signed checkpoint",
       response=CheckpointOut, tags=TAGS)
def latest_checkpoint(principal) -> dict[str, Any]:
    """The newest checkpoint; one is signed now if none exists yet."""
    ledger = get_ledger()
    return ledger.latest_checkpoint() or ledger.checkpoint()


@route("/ledger/proof/inclusion", scope="ledger:read", summary="Inclusion proof of one event",
       query=InclusionQuery, response=InclusionProofOut, tags=TAGS)
def inclusion_proof(principal, query: InclusionQuery) -> dict[str, Any]:
    """RFC 9162 inclusion proof against a signed checkpoint, verifiable offline."""
    try:
        return get_ledger().inclusion_proof(query.seq, query.size)
    except LookupError as exc:
        raise ApiError(404, "Not Found", str(exc)) from None
    except ValueError as exc:
        raise ApiError(422, "Invalid query", str(exc)) from None


@route("/ledger/proof/consistency", scope="ledger:read", summary="Consistency proof between two sizes",
       query=ConsistencyQuery, response=ConsistencyProofOut, tags=TAGS)
def consistency_proof(principal, query: ConsistencyQuery) -> dict[str, Any]:
    """RFC 9162 §2.1.4 proof that the ledger at ``second`` extends the ledger at ``first``."""
    try:
        return get_ledger().consistency_proof(query.first, query.second)
    except ValueError as exc:
        raise ApiError(422, "Invalid query", str(exc)) from None


@route("/ledger/erase", methods=("POST",), scope="consent:erase", summary="Erase a data subject",
       body=EraseBody, response=AppendedList, status=201, tags=TAGS)
def erase_subject(principal, body: EraseBody) -> dict[str, Any]:
    """Crypto-shred the subject's identity and sealed evidence, append ``erased`` (152-FZ art. 21, GDPR art. 17).

    Erasing an erased subject appends nothing; the answer carries that erasure and a warning."""
    p = _pseudonym(body.subject.strip())
    try:
        done = get_ledger().erase(p, principal.actor, body.reason)
    except LookupError as exc:
        raise ApiError(404, "Not Found", str(exc)) from None
    from auditor.accounts.services import record
    from auditor.db import transaction
    from auditor.services import services

    with transaction(services().sessions) as s:
        record(s, principal.actor, "ledger.erase", f"pseudonym:{p}", seq=done.seq, noop=done.warning is not None)
    return _appended([done])
