"""The consent ledger: append, look up, erase, checkpoint, prove, verify."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection, Engine

from consent_ledger import db, projection
from consent_ledger.bulk import collector_paused
from consent_ledger.events import (
    ALL_TYPES,
    CLOCK_SKEW_SECONDS,
    FORMAT_VERSION,
    Appended,
    ConsentState,
    EventIn,
    InvalidEvent,
    VerifyReport,
    _Bad,
    check_pseudonym,
    claimed_in_future,
    event_body,
    evidence_dict,
    format_time,
    parse_time,
)
from consent_ledger.identifiers import (
    InvalidIdentifier,
    KeyedHash,
    is_pseudonym,
    normalise_identifier,
)
from consent_ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    Node,
    consistency_plan,
    frontier_nodes,
    inclusion_plan,
    resolve,
)
from consent_ledger.proofs import checkpoint_message, key_id
from consent_ledger.schema import (
    STATE_COLUMNS,
    checkpoints,
    events,
    states,
    vault,
)
from consent_ledger.vault import (
    derive_kek,
    new_subject,
    open_personal,
    seal_identifier,
    seal_personal,
    unseal,
    unwrap,
)

_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_sha256 = hashlib.sha256
EVENT_COLUMNS = tuple(c.name for c in events.columns)
_UPSERT = db.upsert_sql(("pseudonym", "channel", "purpose"), STATE_COLUMNS)
_SELECT_STATES = f"SELECT {', '.join(STATE_COLUMNS)} FROM ledger_states"  # noqa: S608 - constants
_state_tuple = itemgetter(*STATE_COLUMNS)
_SELECT_BULK = (f"SELECT {', '.join(projection.BULK_COLUMNS)} FROM ledger_states "  # noqa: S608 - constants
                "WHERE channel = ? AND purpose = ? AND pseudonym IN")


class LedgerError(RuntimeError):
    """The stored ledger cannot serve a request (a node is missing: run ``verify``)."""


_BODY_KEYS = frozenset(("type", "channel", "purpose", "controller", "jurisdiction", "legal_basis", "method",
                        "evidence", "claimed_at", "expires_at", "reason", "personal", "pseudonym"))
ERASED = "erased"  # what a read shows in place of personal evidence that was crypto-shredded
_TAILS = {t: "," + _dumps({"type": t, "v": FORMAT_VERSION})[1:] for t in ALL_TYPES}


def _encode_parts_generic(body: dict[str, Any], actor: str) -> tuple[str, str]:
    before = dict(body)
    del before["type"]
    before["actor"] = actor
    return _dumps(before)[:-1] + ',"recorded_at":"', _TAILS[body["type"]]


_EVIDENCE_KEYS = ("bundled", "ip", "notice_sha256", "notice_version", "pre_ticked", "separate_document",
                  "source_url", "user_agent")
_CONSTANTS = {(type(None), None): "null", (bool, True): "true", (bool, False): "false"}  # by class: 1 is no true
_quote = json.encoder.encode_basestring  # what the encoder with ensure_ascii=False writes for a str


def encode_parts(body: dict[str, Any], actor: str) -> tuple[str, str]:
    """The event's canonical JSON before and after the two fields known only under the lock.

    JCS sorts keys (RFC 8785 §3.2.3): every key but ``type`` and ``v`` sorts before
    ``recorded_at`` and ``seq``, so the lock only splices two values in instead of serialising
    the whole event. The fixed keys are written in their sorted order around each value's JSON
    (strings, booleans and nulls as the sorted encoder writes them: tests compare both); a
    body with any other kind of value goes through the encoder.
    """
    if body.keys() != _BODY_KEYS:
        raise ValueError("unexpected event keys")
    ev, personal = body["evidence"], body["personal"]
    try:
        if ev.keys() != _EVIDENCE_KEY_SET:
            raise TypeError
        q, const = _quote, _CONSTANTS
        v = [q(x) if x.__class__ is str else const[x.__class__, x] for x in (
            actor, body["channel"], body["claimed_at"], body["controller"],
            ev["bundled"], ev["ip"], ev["notice_sha256"], ev["notice_version"], ev["pre_ticked"],
            ev["separate_document"], ev["source_url"], ev["user_agent"],
            body["expires_at"], body["jurisdiction"], body["legal_basis"], body["method"],
            body["pseudonym"], body["purpose"], body["reason"])]
        if personal is None:
            v.insert(16, "null")
        elif personal.keys() == _SEALED_KEYS and personal["box"].__class__ is str:
            v.insert(16, f'{{"box":{q(personal["box"])},"fields":{_FIELDS_JSON[tuple(personal["fields"])]}}}')
        else:
            raise TypeError
    except (KeyError, TypeError, AttributeError):  # a value that is no str, bool or null
        return _encode_parts_generic(body, actor)
    return _HEAD_TEMPLATE % tuple(v), _TAILS[body["type"]]


_HEAD_TEMPLATE = ('{"actor":%s,"channel":%s,"claimed_at":%s,"controller":%s,'
                  '"evidence":{"bundled":%s,"ip":%s,"notice_sha256":%s,"notice_version":%s,'
                  '"pre_ticked":%s,"separate_document":%s,"source_url":%s,"user_agent":%s},'
                  '"expires_at":%s,"jurisdiction":%s,"legal_basis":%s,"method":%s,'
                  '"personal":%s,"pseudonym":%s,"purpose":%s,"reason":%s,"recorded_at":"')
_EVIDENCE_KEY_SET = frozenset(_EVIDENCE_KEYS)
_SEALED_KEYS = frozenset(("box", "fields"))
# The JSON of each list of sealed field names _take_personal can make (any other: the encoder).
_FIELDS_JSON = {names: _dumps(list(names)) for names in (
    tuple(name for bit, name in enumerate(("evidence.ip", "evidence.user_agent", "reason")) if mask >> bit & 1)
    for mask in range(1, 8))}


@dataclass
class Prepared:
    """Validated event bodies and sealed vault rows, ready for ``Ledger.commit``."""

    bodies: list[dict[str, Any]]
    parts: list[tuple[str, str]]  # canonical JSON around recorded_at and seq, see encode_parts
    vault: list[tuple[str, bytes, bytes]]  # (pseudonym, wrapped key, sealed identifier) of new subjects
    errors: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # each body's index in the items given
    plain: dict[int, bytes] = field(default_factory=dict)  # body -> its personal evidence, to reseal
    fill: list[tuple[str, bytes]] = field(default_factory=list)  # identifiers for key-only vault rows
    actor: str = ""


class Ledger:
    """An append-only, Merkle-hashed consent ledger on a SQLAlchemy engine."""

    def __init__(self, engine: Engine, ledger_key: bytes, signing_key: Ed25519PrivateKey, *,
                 checkpoint_every_events: int = 1000, checkpoint_every_seconds: float = 300,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._hash = KeyedHash(ledger_key)
        self._kek = derive_kek(ledger_key)
        self.signing_key = signing_key
        self.public_key = signing_key.public_key()
        self.key_id = key_id(self.public_key)
        self.public_key_pem = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.checkpoint_every_events = checkpoint_every_events
        self.checkpoint_every_seconds = checkpoint_every_seconds
        self._clock = clock or (lambda: datetime.now(UTC))
        self._head: Frontier | None = None  # committed right edge of the tree, a cache

    # --- identifiers -----------------------------------------------------------------------

    def pseudonym_of(self, raw: str, channel: str = "email") -> str:
        """Normalise an identifier for ``channel`` and return its pseudonym."""
        return self._hash.pseudonym(normalise_identifier(raw, channel))

    def pseudonyms_of(self, raws: Iterable[str], channel: str = "email") -> dict[str, str | InvalidIdentifier]:
        """``pseudonym_of`` for many identifiers at once: the pseudonym of each distinct one, or
        the InvalidIdentifier that says why it has none (a gate call brings 100,000)."""
        out: dict[str, str | InvalidIdentifier] = {}
        normalise, name = normalise_identifier, self._hash.pseudonym
        for raw in raws:
            if raw in out:
                continue
            try:
                out[raw] = name(normalise(raw, channel))
            except InvalidIdentifier as exc:  # the one error normalisation raises; it says why
                out[raw] = exc
        return out

    def normalise_and_pseudonymise(self, raws: Iterable[str], channel: str = "email"
                                   ) -> dict[str, tuple[str, str] | InvalidIdentifier]:
        """``pseudonyms_of`` keeping the normalised form: (normalised, pseudonym) of each distinct
        identifier, or the InvalidIdentifier that says why it has none (for a store that keeps a
        digest of the address beside its pseudonym: one normalisation per address)."""
        out: dict[str, tuple[str, str] | InvalidIdentifier] = {}
        normalise, name = normalise_identifier, self._hash.pseudonym
        for raw in raws:
            if raw in out:
                continue
            try:
                normalised = normalise(raw, channel)
            except InvalidIdentifier as exc:
                out[raw] = exc
            else:
                out[raw] = (normalised, name(normalised))
        return out

    def _subject(self, raw_or_pseudonym: str) -> str:
        if is_pseudonym(raw_or_pseudonym):
            return raw_or_pseudonym
        channel = "email" if "@" in raw_or_pseudonym else "*"  # "*": the error names every accepted form
        return self.pseudonym_of(raw_or_pseudonym, channel)

    def identity(self, pseudonym_: str) -> str | None:
        """The identifier behind a pseudonym from the vault; None once erased or unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(vault.c.wrapped_key, vault.c.sealed)
                               .where(vault.c.pseudonym == pseudonym_)).first()
        return unseal(self._kek, pseudonym_, row[0], row[1]) if row else None

    # --- appending -------------------------------------------------------------------------

    def _validate(self, items: Sequence[EventIn]) -> tuple[list[dict], dict[str, str], list[dict], list[int]]:
        bodies: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        indexes: list[int] = []
        identifiers: dict[str, str] = {}  # pseudonym -> normalised identifier, for the vault
        now = self._clock()
        try:  # formatted times of one width order as the times do: one string comparison per event
            latest = format_time(now + timedelta(seconds=CLOCK_SKEW_SECONDS))
        except OverflowError:
            latest = "9999-12-31T23:59:59.999999Z"
        for i, e in enumerate(items):
            try:
                if not isinstance(e, EventIn):
                    raise _Bad("event", "not an EventIn")
                body = event_body(e)
                claimed = body["claimed_at"]
                if claimed is not None and claimed > latest and claimed_in_future(claimed, now):
                    raise _Bad("claimed_at", f"{body['claimed_at']} is in the future (the ledger's clock reads "
                                             f"{format_time(now)}; up to 5 minutes of clock skew are accepted)")
                if (e.subject is None) == (e.pseudonym is None):
                    raise _Bad("subject", "give either subject or pseudonym")
                if e.subject is not None:
                    try:
                        norm = normalise_identifier(e.subject, e.channel)
                    except InvalidIdentifier as exc:
                        raise _Bad("subject", str(exc)) from None
                    p = self._hash.pseudonym(norm)
                    identifiers.setdefault(p, norm)
                else:
                    p = check_pseudonym(e.pseudonym)
                body["pseudonym"] = p
                bodies.append(body)
                indexes.append(i)
            except _Bad as bad:
                errors.append({"index": i, "field": bad.field, "message": bad.message})
        return bodies, identifiers, errors, indexes

    def validate(self, items: Sequence[EventIn]) -> list[dict[str, Any]]:
        """Per-item errors ({index, field, message}) that ``append`` would refuse; [] if none."""
        return self._validate(items)[2]

    def prepare(self, items: Sequence[EventIn], actor: str, *, keep_good: bool = False) -> Prepared:
        """Validate, pseudonymise, seal new identities and personal evidence: the work that needs no lock.

        Refuses the whole batch (InvalidEvent) unless ``keep_good``, which drops bad items
        and lists them in ``errors``.
        """
        if not isinstance(actor, str) or not actor.strip() or len(actor) > 400:
            raise ValueError("actor must be a non-empty string of at most 400 characters")
        actor = actor.strip()
        with collector_paused(len(items)):
            bodies, identifiers, errors, indexes = self._validate(items)
            if errors and not keep_good:
                raise InvalidEvent(errors)
            plain = {}
            for i, b in enumerate(bodies):
                text = _take_personal(b)
                if text is not None:
                    plain[i] = text
            new, fill, keys = self._vault_work(identifiers, {bodies[i]["pseudonym"] for i in plain})
            for i, text in plain.items():
                _seal_body(bodies[i], keys[bodies[i]["pseudonym"]], text)
            return Prepared(bodies, [encode_parts(b, actor) for b in bodies], new, errors, indexes, plain, fill,
                            actor)

    def _vault_work(self, identifiers: dict[str, str], sealing: set[str]) -> tuple[
            list[tuple[str, bytes, bytes]], list[tuple[str, bytes]], dict[str, bytes]]:
        """New vault rows, identifiers for key-only rows, and the subject keys to seal with.

        Done before the lock: AES is not free. A subject given by pseudonym only gets a key with
        no identifier, so its personal evidence can be sealed (and shredded) too.
        """
        wanted = sorted(set(identifiers) | sealing)
        if not wanted:
            return [], [], {}
        with self.engine.connect() as conn:
            known = {r[0]: (bytes(r[1]), bytes(r[2])) for r in db.select_in(
                conn, "SELECT pseudonym, wrapped_key, sealed FROM ledger_vault WHERE pseudonym IN", wanted)}
        new, fill, keys = [], [], {}
        for p in wanted:
            row = known.get(p)
            if row is None:
                key, wrapped, sealed = new_subject(self._kek, p, identifiers.get(p))
                new.append((p, wrapped, sealed))
                keys[p] = key
                continue
            if p in sealing or (not row[1] and p in identifiers):
                keys[p] = unwrap(self._kek, p, row[0])
            if not row[1] and p in identifiers:  # known by pseudonym until now
                fill.append((p, seal_identifier(keys[p], p, identifiers[p])))
        return new, fill, keys

    @contextmanager
    def _locked(self) -> Iterator[tuple[Connection, Frontier, datetime]]:
        """A write transaction holding the append lock, with the tree's committed right edge."""
        now = self._clock()
        with self.engine.begin() as conn:
            db.take_append_lock(conn, format_time(now))
            yield conn, self._frontier(conn), now

    def append(self, items: Sequence[EventIn], actor: str) -> list[Appended]:
        """Append events in one transaction; durable (committed) when this returns.

        All or none: an event the state machine refuses (claimed before the subject's erasure)
        refuses the batch (InvalidEvent). Events it ignores are recorded with a ``warning``.
        """
        if not items:
            return []
        return self.commit(self.prepare(items, actor))

    def commit(self, prepared: Prepared, *, keep_good: bool = False) -> list[Appended]:
        """Append prepared events in one locked transaction.

        With ``keep_good`` refused events are added to ``prepared.errors`` and the rest kept;
        otherwise a refusal raises InvalidEvent and nothing is written.
        """
        if not prepared.bodies:
            return []
        with collector_paused(len(prepared.bodies)), self._locked() as (conn, frontier, now):
            self._reseal_if_raced(conn, prepared)
            out, refused = self._append_locked(conn, frontier, now, prepared.bodies, prepared.parts,
                                               prepared.indexes)
            errors = [{"index": prepared.indexes[i] if prepared.indexes else i, "field": "claimed_at",
                       "message": why} for i, why in refused]
            if errors and not keep_good:
                raise InvalidEvent(errors)
            prepared.errors.extend(errors)
            kept = {a.pseudonym for a in out}
            db.insert_rows(conn, "ledger_vault", ("pseudonym", "wrapped_key", "sealed"),
                           [v for v in prepared.vault if v[0] in kept], "ON CONFLICT DO NOTHING")
            for p, sealed in prepared.fill:
                if p in kept:
                    conn.execute(vault.update().where(vault.c.pseudonym == p, vault.c.sealed == b"")
                                 .values(sealed=sealed))
        self._head = frontier
        return out

    def _reseal_if_raced(self, conn: Connection, prepared: Prepared) -> None:
        """Another appender created a vault row for one of our new subjects since ``prepare``:
        seal that subject's personal evidence under the stored key, not ours (which is dropped).

        If the stored row has no identifier (its subject came by pseudonym alone) and ours
        does, the identifier is sealed under the stored key too and filled in with the batch,
        as ``prepare`` does for a subject it finds known by pseudonym only: it is not lost.
        """
        ours = {p: (wrapped, sealed) for p, wrapped, sealed in prepared.vault}
        if not ours:
            return
        stored = {p: (bytes(w), bytes(s)) for p, w, s in db.select_in(
            conn, "SELECT pseudonym, wrapped_key, sealed FROM ledger_vault WHERE pseudonym IN", sorted(ours))}
        if not stored:
            return
        keys: dict[str, bytes] = {}

        def key_of(p: str) -> bytes:
            if p not in keys:
                keys[p] = unwrap(self._kek, p, stored[p][0])
            return keys[p]

        for i, text in prepared.plain.items():
            p = prepared.bodies[i]["pseudonym"]
            if p in stored:
                body = prepared.bodies[i]
                _seal_body(body, key_of(p), text)
                prepared.parts[i] = encode_parts(body, prepared.actor)
        for p in sorted(stored):
            wrapped, sealed = ours[p]
            if sealed and not stored[p][1]:
                identifier = unseal(self._kek, p, wrapped, sealed)
                if identifier is not None:
                    prepared.fill.append((p, seal_identifier(key_of(p), p, identifier)))
        prepared.vault = [v for v in prepared.vault if v[0] not in stored]

    def append_stream(self, batches: Iterable[Sequence[EventIn]], actor: str, *,
                      keep_good: bool = True) -> Iterator[tuple[list[Appended], list[dict[str, Any]]]]:
        """Append batch after batch, preparing the next one while the current one is written.

        Yields (appended, errors) per batch; each batch is its own transaction. The database
        releases the GIL while it writes, so validation and sealing overlap with the I/O.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="ledger-prepare") as pool:
            it = iter(batches)
            first = next(it, None)
            pending = None if first is None else pool.submit(self.prepare, first, actor, keep_good=keep_good)
            while pending is not None:
                prepared = pending.result()
                nxt = next(it, None)
                pending = None if nxt is None else pool.submit(self.prepare, nxt, actor, keep_good=keep_good)
                yield self.commit(prepared, keep_good=keep_good), prepared.errors
        db.fold_wal(self.engine)  # the stream has ended: no more batches to spread a checkpoint over

    def _append_locked(self, conn: Connection, frontier: Frontier, now: datetime,
                       bodies: list[dict[str, Any]], parts: list[tuple[str, str]],
                       indexes: list[int] | None = None) -> tuple[list[Appended], list[tuple[int, str]]]:
        """Write the events the state machine accepts and update the projection in the same
        transaction; returns them and (body index, reason) of each refused one."""
        current = self._load_rows(conn, sorted({b["pseudonym"] for b in bodies}))
        changed: dict[int, dict[str, Any]] = {}  # the state rows to write, once each
        rows, out, refused = sequence_events(frontier, current, changed, bodies, parts, indexes, format_time(now))
        db.insert_rows(conn, "ledger_events", EVENT_COLUMNS, rows)
        # No ordering needed against deadlocks: the append lock admits one writer at a time.
        db.insert_rows(conn, "ledger_states", STATE_COLUMNS, [_state_tuple(r) for r in changed.values()],
                       _UPSERT)
        if rows:
            self._maybe_checkpoint(conn, frontier, now)
        return out, refused

    def _load_rows(self, conn: Connection, ps: list[str]) -> dict[str, dict[tuple[str, str], dict]]:
        found: dict[str, dict[tuple[str, str], dict]] = {}
        for row in db.select_in(conn, _SELECT_STATES + " WHERE pseudonym IN", ps):
            d = dict(zip(STATE_COLUMNS, row, strict=True))
            d["confirmed"], d["evidence_complete"] = bool(d["confirmed"]), bool(d["evidence_complete"])
            found.setdefault(d["pseudonym"], {})[(d["channel"], d["purpose"])] = d
        return found

    def erase(self, raw_or_pseudonym: str, actor: str, reason: str | None = None) -> Appended:
        """Destroy the subject's vault key (identity and sealed evidence) and append ``erased``.

        Erasing a subject already erased, with nothing recorded since, appends nothing: the
        answer is that erasure, with a ``warning`` saying so.
        """
        if not isinstance(actor, str) or not actor.strip() or len(actor) > 400:
            raise ValueError("actor must be a non-empty string of at most 400 characters")
        actor = actor.strip()
        p = self._subject(raw_or_pseudonym)
        body = {"type": "erased", "channel": "*", "purpose": "*", "controller": None,
                "jurisdiction": None, "legal_basis": None, "method": None,
                "evidence": evidence_dict(None), "claimed_at": None, "expires_at": None,
                "reason": (reason or "").strip()[:500] or None, "personal": None, "pseudonym": p}
        with self.engine.connect() as conn:
            known = conn.scalar(sa.select(events.c.seq).where(events.c.pseudonym == p).limit(1))
        if known is None:
            raise LookupError("the ledger holds no events for this subject")
        with self._locked() as (conn, frontier, now):
            last = conn.execute(sa.select(events.c.seq, events.c.type, events.c.leaf_hash, events.c.recorded_at)
                                .where(events.c.pseudonym == p).order_by(events.c.seq.desc()).limit(1)).one()
            held = conn.scalar(sa.select(vault.c.pseudonym).where(vault.c.pseudonym == p))
            if last.type == "erased" and held is None:
                return Appended(last.seq, p, bytes(last.leaf_hash).hex(), last.recorded_at,
                                f"already erased at {last.recorded_at} (seq {last.seq}); nothing to do")
            conn.execute(vault.delete().where(vault.c.pseudonym == p))
            [done], _ = self._append_locked(conn, frontier, now, [body], [encode_parts(body, actor)])
        self._head = frontier
        return done

    # --- the tree --------------------------------------------------------------------------

    def _size(self, conn: Connection) -> int:
        return conn.scalar(sa.select(sa.func.max(events.c.seq))) or 0

    def _frontier(self, conn: Connection) -> Frontier:
        size = self._size(conn)
        cached = self._head
        if cached is not None and cached.size == size:
            return cached.copy()
        nodes = frontier_nodes(size)
        got = self._nodes(conn, nodes)
        return Frontier(size, [got[n] for n in nodes])

    def _nodes(self, conn: Connection, nodes: list[Node]) -> dict[Node, bytes]:
        """Stored node hashes: level 0 is a leaf hash; level l > 0 sits in the completing row."""
        where = {n: (n[1] + 1) << n[0] for n in nodes}
        rows: dict[int, tuple[bytes, bytes]] = {}
        for part in db.chunks(sorted(set(where.values()))):
            for seq, lh, blob in conn.execute(sa.select(events.c.seq, events.c.leaf_hash, events.c.nodes)
                                              .where(events.c.seq.in_(part))):
                rows[seq] = (bytes(lh), bytes(blob))
        out = {}
        for (level, index), seq in where.items():
            row = rows.get(seq)
            h = None if row is None else row[0] if level == 0 else row[1][32 * (level - 1):32 * level]
            if not h or len(h) != 32:
                raise LedgerError(f"stored node ({level}, {index}) is missing at seq {seq}; run verify")
            out[(level, index)] = h
        return out

    def _root(self, conn: Connection, size: int) -> bytes:
        if size == 0:
            return EMPTY_ROOT
        return resolve([frontier_nodes(size)], lambda ns: self._nodes(conn, ns))[0]

    @contextmanager
    def _reading(self, conn: Connection | None) -> Iterator[Connection]:
        """``conn`` if the caller lends one (the gate reads on its request's connection: one
        checkout and ping fewer per read), else a connection of our own."""
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as own:
            yield own

    def size(self, conn: Connection | None = None) -> int:
        """Number of events (read on ``conn`` if given)."""
        with self._reading(conn) as c:
            return self._size(c)

    # --- checkpoints -----------------------------------------------------------------------

    def _sign(self, size: int, root: bytes, now: datetime) -> dict[str, Any]:
        when = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        sig = self.signing_key.sign(checkpoint_message(size, root.hex(), when, self.key_id))
        return {"size": size, "root": root.hex(), "time": when, "key_id": self.key_id,
                "signature": base64.b64encode(sig).decode()}

    def _store_checkpoint(self, conn: Connection, size: int, root: bytes, now: datetime) -> dict[str, Any]:
        cp = self._sign(size, root, now)
        conn.execute(checkpoints.insert().values(**cp))
        return cp

    def _maybe_checkpoint(self, conn: Connection, frontier: Frontier, now: datetime) -> None:
        last = conn.execute(sa.select(checkpoints.c.size, checkpoints.c.time)
                            .order_by(checkpoints.c.id.desc()).limit(1)).first()
        due = (last is None or frontier.size - last.size >= self.checkpoint_every_events
               or (frontier.size > last.size
                   and (now - parse_time(last.time)).total_seconds() >= self.checkpoint_every_seconds))
        if due:
            self._store_checkpoint(conn, frontier.size, frontier.root(), now)

    def checkpoint(self) -> dict[str, Any]:
        """Sign and store a checkpoint of the ledger as it is now."""
        with self._locked() as (conn, frontier, now):
            cp = self._store_checkpoint(conn, frontier.size, frontier.root(), now)
        self._head = frontier
        return cp

    def _checkpoint_at(self, size: int) -> dict[str, Any]:
        """A stored checkpoint of exactly ``size`` events (signing one now if there is none)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(checkpoints).where(checkpoints.c.size == size)
                               .order_by(checkpoints.c.id.desc()).limit(1)).first()
        if row is not None:
            return _cp(row)
        with self._locked() as (conn, _frontier, now):
            return self._store_checkpoint(conn, size, self._root(conn, size), now)

    def latest_checkpoint(self) -> dict[str, Any] | None:
        """The newest stored checkpoint, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(checkpoints).order_by(checkpoints.c.id.desc()).limit(1)).first()
        return _cp(row) if row else None

    def checkpoints(self) -> list[dict[str, Any]]:
        """Every stored checkpoint, oldest first."""
        with self.engine.connect() as conn:
            return [_cp(r) for r in conn.execute(sa.select(checkpoints).order_by(checkpoints.c.id))]

    # --- proofs ----------------------------------------------------------------------------

    def inclusion_proof(self, seq: int, size: int | None = None) -> dict[str, Any]:
        """The INTERFACES.md proof file for event ``seq`` against a signed checkpoint.

        Without ``size``: the latest checkpoint if it covers ``seq``, else a new one. One
        connection for the usual case (each checkout costs a ping and a rollback).
        """
        with self.engine.connect() as conn:
            n = self._size(conn)
            if not 1 <= seq <= n:
                raise LookupError(f"no event with seq {seq} (the ledger has {n})")
            if size is not None and not seq <= size <= n:
                raise ValueError(f"size must be between {seq} and {n}")
            query = sa.select(checkpoints).order_by(checkpoints.c.id.desc()).limit(1)
            row = conn.execute(query if size is None else query.where(checkpoints.c.size == size)).first()
            if row is not None and row.size >= seq:
                return self._inclusion(conn, seq, _cp(row))
        cp = self._checkpoint_at(size if size is not None else n)  # signs one now
        with self.engine.connect() as conn:
            return self._inclusion(conn, seq, cp)

    def _inclusion(self, conn: Connection, seq: int, cp: dict[str, Any]) -> dict[str, Any]:
        path = resolve(inclusion_plan(seq - 1, cp["size"]), lambda ns: self._nodes(conn, ns))
        text, lh = conn.execute(sa.select(events.c.event, events.c.leaf_hash).where(events.c.seq == seq)).one()
        return {"event": json.loads(text), "leaf_index": seq - 1, "tree_size": cp["size"],
                "leaf_hash": bytes(lh).hex(), "audit_path": [h.hex() for h in path],
                "checkpoint": cp, "public_key": self.public_key_pem.decode()}

    def consistency_proof(self, first: int, second: int) -> dict[str, Any]:
        """RFC 9162 §2.1.4 proof that the ledger at ``second`` events extends it at ``first``."""
        n = self.size()
        if not 0 <= first <= second <= n:
            raise ValueError(f"need 0 <= first <= second <= {n}")
        with self.engine.connect() as conn:
            get = lambda ns: self._nodes(conn, ns)  # noqa: E731
            path = resolve(consistency_plan(first, second), get) if 0 < first < second else []
            return {"first": first, "second": second, "first_root": self._root(conn, first).hex(),
                    "second_root": self._root(conn, second).hex(), "path": [h.hex() for h in path]}

    # --- reading ---------------------------------------------------------------------------

    def history(self, pseudonym_: str, *, as_hashed: bool = False) -> list[dict[str, Any]]:
        """Every event of a pseudonym, oldest first.

        As read (default): sealed personal evidence opened while the subject's key exists, and
        ``erased`` in its place once the subject was erased. ``as_hashed``: the stored events.
        """
        with self.engine.connect() as conn:
            stored = [json.loads(t) for t in conn.scalars(
                sa.select(events.c.event).where(events.c.pseudonym == pseudonym_).order_by(events.c.seq))]
            row = None if as_hashed else conn.execute(
                sa.select(vault.c.wrapped_key).where(vault.c.pseudonym == pseudonym_)).first()
        if as_hashed:
            return stored
        key = None
        if row is not None:
            try:
                key = unwrap(self._kek, pseudonym_, bytes(row[0]))
            except InvalidTag:  # a vault row that does not open reads like an erased one
                key = None
        last_erasure = max((e["seq"] for e in stored if e["type"] == "erased"), default=0)
        return [reveal(e, key, e["seq"] < last_erasure) for e in stored]

    def states_of(self, pseudonym_: str) -> list[ConsentState]:
        """Current state of a pseudonym for every channel and purpose it has events for."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(states.c.channel, states.c.purpose,
                                          *(states.c[name] for name in projection.BULK_COLUMNS))
                                .where(states.c.pseudonym == pseudonym_)
                                .order_by(states.c.channel, states.c.purpose))
            # One row per channel and purpose: the bulk builder, so a state is made in one place.
            return [projection.bulk_states([tuple(r[2:])], r[0], r[1])[pseudonym_] for r in rows]

    def current_states(self, pseudonyms: Sequence[str], channel: str, purpose: str, *,
                       conn: Connection | None = None) -> dict[str, ConsentState]:
        """Current state per pseudonym for one channel and purpose; missing = no event.

        Read on ``conn`` if given (in its transaction), else on a connection of our own.
        """
        wanted = list(set(pseudonyms))
        if self.engine.dialect.name == "sqlite":
            wanted.sort()  # IN chunks of neighbouring keys touch fewer pages
        with collector_paused(len(wanted)), self._reading(conn) as c:
            rows = db.select_in(c, _SELECT_BULK, wanted, (channel, purpose))
            return projection.bulk_states(rows, channel, purpose)

    def verify(self, progress: Callable[[int], None] | None = None,
               parallel: bool | None = None) -> VerifyReport:
        """Recompute every leaf, node and checkpoint, rebuild the projection; report the first fault.

        ``parallel``: rebuild the projection in a second process (default: on large ledgers).
        """
        from consent_ledger.verify import verify_ledger

        return verify_ledger(self, progress, parallel)


def sequence_events(frontier: Frontier, states_of: dict[str, dict[tuple[str, str], dict[str, Any]]],
                    changed: dict[int, dict[str, Any]], bodies: list[dict[str, Any]], parts: list[tuple[str, str]],
                    indexes: list[int] | None, recorded: str) -> tuple[list[tuple], list[Appended], list[tuple[int, str]]]:
    """The events rows of prepared bodies recorded at ``recorded``: seqs, canonical text, leaf
    hashes and the tree's new nodes (``frontier`` advances), each event applied to its subject's
    states (``states_of``, by pseudonym; every row it changes lands in ``changed`` by id).

    Returns the rows, what was appended and (body index, reason) of each refused event.
    Both ``commit`` and the bulk loader append through it.
    """
    seq = frontier.size
    rows, out, refused = [], [], []
    push = frontier.append
    apply, refusal = projection.apply, projection.refusal
    for i, (body, (head, tail)) in enumerate(zip(bodies, parts, strict=True)):
        states_ = states_of.setdefault(body["pseudonym"], {})
        ev = {**body, "seq": seq + 1, "recorded_at": recorded}
        why = refusal(states_, ev)
        if why is not None:
            refused.append((i, why))
            continue
        seq += 1
        text = f'{head}{recorded}","seq":{seq}{tail}'
        lh = _sha256(b"\x00" + text.encode()).digest()
        rows.append((seq, body["pseudonym"], body["type"], body["channel"], body["purpose"], text,
                     lh, b"".join(push(lh)), recorded))
        keys, warning = apply(states_, ev)
        for key in keys:
            row = states_[key]
            changed[id(row)] = row
        out.append(Appended(seq, body["pseudonym"], lh.hex(), recorded, warning, indexes[i] if indexes else i))
    return rows, out, refused


def _cp(row: Any) -> dict[str, Any]:
    return {"size": row.size, "root": row.root, "time": row.time, "key_id": row.key_id,
            "signature": row.signature}





_PERSONAL = (("evidence.ip", '"evidence.ip":'), ("evidence.user_agent", '"evidence.user_agent":'),
             ("reason", '"reason":'))


def _take_personal(body: dict[str, Any]) -> bytes | None:
    """Take the personal evidence out of a body: its canonical JSON, or None when there is none.

    The three names are in sorted order, so the sorted object is written field by field.
    """
    ev = body["evidence"]
    values = (ev["ip"], ev["user_agent"], body["reason"])
    if values == (None, None, None):
        return None
    fields, text = [], []
    for (name, key), value in zip(_PERSONAL, values, strict=True):
        if value is None:
            continue
        fields.append(name)
        text.append(key + (_quote(value) if value.__class__ is str else _dumps(value)))
    body["evidence"] = {**ev, "ip": None, "user_agent": None}
    body["reason"] = None
    body["personal"] = {"fields": fields}
    return ("{" + ",".join(text) + "}").encode()


def _seal_body(body: dict[str, Any], key: bytes, text: bytes) -> None:
    """Put the sealed personal evidence into the body (format v2); ``_take_personal`` named its fields."""
    body["personal"] = {"box": seal_personal(key, body["pseudonym"], text), "fields": body["personal"]["fields"]}


def reveal(event: dict[str, Any], key: bytes | None, erased_after: bool) -> dict[str, Any]:
    """An event as read: sealed personal evidence opened with the subject key, or ``erased``.

    v1 events hold IP, user agent and reason in the clear; once the subject is erased after
    them, reads show ``erased`` in their place (the stored event, and its proof, keep them).
    """
    sealed = event.get("personal")
    if event.get("v", 1) < 2 or not sealed:
        if erased_after and event.get("type") != "erased":
            ev = event.get("evidence") or {}
            event = {**event, "reason": ERASED if event.get("reason") is not None else None,
                     "evidence": {**ev, **{k: ERASED for k in ("ip", "user_agent") if ev.get(k) is not None}}}
        return event
    opened: dict[str, Any] | None = None
    if key is not None:
        try:
            opened = json.loads(open_personal(key, event["pseudonym"], sealed["box"]))
        except (InvalidTag, ValueError, KeyError):
            opened = None
    values = opened if opened is not None else {name: ERASED for name in sealed.get("fields", ())}
    ev = dict(event.get("evidence") or {})
    out = {**event, "evidence": ev}
    for name, value in values.items():
        if name.startswith("evidence."):
            ev[name.removeprefix("evidence.")] = value
        else:
            out[name] = value
    return out
