"""Integrations: configure them, accept their webhooks into the inbox, process the inbox.

Processing one inbox entry (docs/integrations.md, "The inbox"):

1. claim it (``received`` -> ``processing`` with a lease), so one worker holds it at a time;
2. insert its delivery events, ignoring provider event ids already stored: the entry *claims*
   the events it inserted (``delivery_events.inbox_id``), so a retried batch claims nothing;
3. append ``withdrawn`` for the claimed unsubscribes and complaints, skipping people whose
   state is already withdrawn or erased (a crash between 2 and 4 repeats 3 without a second
   ``withdrawn``), and record the claimed hard bounces;
4. mark it ``processed`` and drop the body (it holds addresses: erasure must not be undone here).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from auditor.db import dialect_insert, transaction
from auditor.delivery.links import campaign_of_url
from auditor.delivery.rollup import record as roll_up
from auditor.integrations.models import BounceSuppression, DeliveryEvent, InboxEntry, Integration
from auditor.services import services
from checks.i18n import msg
from checks.providers import (
    HARD_BOUNCE,
    WEBHOOK_PROVIDERS,
    WITHDRAWAL_KINDS,
    ProviderEvent,
    parse_payload,
)

PROVIDERS = (*WEBHOOK_PROVIDERS, "csv")
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=2)
STOPPED = ("withdrawn", "erased")


class IntegrationError(ValueError):
    """A configuration request cannot be done; the message says why."""


def token_hash(token: str) -> str:
    """SHA-256 hex of a webhook URL token (only the hash is stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def webhook_url(app: Flask, provider: str, token: str) -> str:
    """The URL to give the provider."""
    return f"{services(app).settings.public_url}/hooks/{provider}/{token}"


def create_integration(session: Session, *, name: str, provider: str, actor: str, channel: str = "email",
                       purpose: str = "marketing", controller: str | None = None, secret: str | None = None,
                       mapping: dict[str, Any] | None = None) -> tuple[Integration, str]:
    """Store an integration; returns it and its webhook token (shown once, only its hash is kept)."""
    from consent_ledger.events import EventIn, event_body

    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable() or "/" in name:
        raise IntegrationError("the name must be 1-100 printable characters without '/'")
    if provider not in PROVIDERS:
        raise IntegrationError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
    try:
        body = event_body(EventIn(type="withdrawn", channel=channel, purpose=purpose, controller=controller))
    except Exception as exc:  # consent_ledger's _Bad: field and message
        raise IntegrationError(f"{getattr(exc, 'field', 'field')}: {getattr(exc, 'message', exc)}") from None
    if provider == "sendgrid" and secret:
        from checks.providers.sendgrid import load_public_key

        try:
            load_public_key(secret)
        except ValueError as exc:
            raise IntegrationError(str(exc)) from None
    if provider == "unisender" and not secret:
        raise IntegrationError("unisender needs its API key (--api-key-stdin): the 'auth' MD5 uses it")
    if provider == "csv" and not mapping:
        raise IntegrationError("a csv integration needs --mapping FILE.yaml")
    if session.scalar(sa.select(Integration.id).where(Integration.name == name)) is not None:
        raise IntegrationError(f"an integration named {name!r} exists")
    token = secrets.token_urlsafe(32)
    row = Integration(name=name, provider=provider, controller=body["controller"], channel=body["channel"],
                      purpose=body["purpose"], secret=secret, mapping=mapping, token_sha256=token_hash(token),
                      created_by=actor, created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    return row, token


def list_integrations(session: Session) -> list[Integration]:
    """Every integration, by name."""
    return list(session.scalars(sa.select(Integration).order_by(Integration.name)))


def get_integration(session: Session, name: str) -> Integration:
    """The integration called ``name``; IntegrationError when there is none."""
    row = session.scalar(sa.select(Integration).where(Integration.name == name))
    if row is None:
        raise IntegrationError(f"no integration named {name!r}")
    return row


def remove_integration(session: Session, name: str) -> None:
    """Delete an integration; its URL stops working. Ledger events it caused stay (append-only)."""
    row = get_integration(session, name)
    forget_hook_target(session.get_bind(), row.token_sha256)
    session.execute(sa.delete(InboxEntry).where(InboxEntry.integration_id == row.id))
    session.execute(sa.delete(DeliveryEvent).where(DeliveryEvent.integration_id == row.id))
    session.execute(sa.update(BounceSuppression).where(BounceSuppression.integration_id == row.id)
                    .values(integration_id=None))
    session.delete(row)


def describe(row: Integration, inbox: dict[str, int] | None = None) -> dict[str, Any]:
    """An integration as the API and CLI show it: never its secret or token."""
    return {"id": row.id, "name": row.name, "provider": row.provider, "controller": row.controller,
            "channel": row.channel, "purpose": row.purpose, "has_secret": bool(row.secret),
            "created_at": _aware(row.created_at).isoformat(), "created_by": row.created_by,
            "inbox": inbox or {}}


def inbox_counts(session: Session) -> dict[int, dict[str, int]]:
    """Per integration id, how many inbox entries are in each state."""
    out: dict[int, dict[str, int]] = {}
    for iid, state, n in session.execute(sa.select(InboxEntry.integration_id, InboxEntry.state, sa.func.count())
                                         .group_by(InboxEntry.integration_id, InboxEntry.state)):
        out.setdefault(iid, {})[state] = n
    return out


@dataclass(frozen=True, slots=True)
class HookTarget:
    """What a webhook request needs of its integration: a read-only copy, safe to share between threads."""

    id: int
    name: str
    provider: str
    controller: str | None
    channel: str
    purpose: str
    secret: str | None
    token_sha256: str


# Integrations by (database URL, token hash). An integration's token, provider, secret, channel
# and purpose never change (there is no edit, only remove and add), so a copy stays right for as
# long as the row exists; the inbox write re-checks that it does (``accept``), and ``remove``
# drops the copy in this process. Only known tokens are kept: a new integration works at once.
_TARGETS: dict[tuple[str, str], HookTarget] = {}
_TARGETS_MAX = 4096
_DB_KEYS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _db_key(bind: Any) -> str:
    engine = getattr(bind, "engine", bind)
    key = _DB_KEYS.get(engine)
    if key is None:
        key = _DB_KEYS[engine] = engine.url.render_as_string(hide_password=True)
    return key


def hook_target(app: Flask, provider: str, token: str) -> HookTarget | None:
    """The integration of webhook URL token ``token`` for ``provider`` (cached), else None."""
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)
    key = (_db_key(services(app).engine), digest)
    found = _TARGETS.get(key)
    if found is None:
        with services(app).sessions() as s:
            row = s.scalar(sa.select(Integration).where(Integration.token_sha256 == digest))
            if row is None:
                return None
            found = HookTarget(row.id, row.name, row.provider, row.controller, row.channel, row.purpose,
                               row.secret, row.token_sha256)
        if len(_TARGETS) >= _TARGETS_MAX:
            _TARGETS.clear()
        _TARGETS[key] = found
    return found if found.provider == provider else None


def forget_hook_target(bind: Any, digest: str) -> None:
    """Drop the cached copy of the integration whose token hash is ``digest`` (it was removed)."""
    _TARGETS.pop((_db_key(bind), digest), None)


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


# --- the inbox ---------------------------------------------------------------------------------

@dataclass
class Accepted:
    """A webhook request made durable: its inbox id, and whether it was a byte-for-byte replay."""

    inbox_id: int
    duplicate: bool
    events: int


# The inbox write of every webhook request, on the driver's own connection (no ORM session, no
# statement compilation): one INSERT, only while the integration still has that URL token, nothing
# on a duplicate body; then the duplicate's id. PostgreSQL needs the types of SELECT-list parameters.
_ACCEPT_TYPES = ("bigint", "varchar", "bytea", "integer", "timestamptz", "varchar", "integer", "timestamptz")
_ACCEPT_SQL = ("INSERT INTO webhook_inbox (integration_id, body_sha256, body, events, received_at, state, attempts,"
               " lease_until) SELECT {values} WHERE {alive}"
               " ON CONFLICT (integration_id, body_sha256) DO NOTHING RETURNING id")
_ACCEPT_AGAIN = "SELECT id FROM webhook_inbox WHERE integration_id = {p} AND body_sha256 = {p} AND {alive}"
_ALIVE = "EXISTS (SELECT 1 FROM integrations WHERE id = {p} AND token_sha256 = {p})"


def _accept_sql(dialect: str, guarded: bool) -> tuple[str, str]:
    p = "?" if dialect == "sqlite" else "%s"
    values = ", ".join("?" if dialect == "sqlite" else f"%s::{t}" for t in _ACCEPT_TYPES)
    alive = _ALIVE.format(p=p) if guarded else "1 = 1"
    return _ACCEPT_SQL.format(values=values, alive=alive), _ACCEPT_AGAIN.format(p=p, alive=alive)


def _sqlite_time(ts: datetime | None) -> str | None:
    """A UTC time as SQLAlchemy's SQLite DateTime stores it (so comparisons and reads agree)."""
    return None if ts is None else ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def accept(app: Flask, integration_id: int, body: bytes, events: int, *, claim: bool = False,
           token_sha256: str | None = None) -> Accepted | None:
    """Write a verified, parsed request into the inbox (committed on return).

    ``claim``: the caller processes it at once (inline): the row is written already claimed
    (accept and claim in one transaction: the same outcome as the two events of the table).
    ``token_sha256``: the row is written only while the integration still has that URL token
    (in the same statement), so a cached integration removed meanwhile gets None, not a 2xx.
    """
    digest = hashlib.sha256(body).hexdigest()
    now = datetime.now(UTC)
    lease = now + LEASE if claim else None
    engine = services(app).engine
    dialect = engine.dialect.name
    if dialect == "sqlite":
        row: tuple = (integration_id, digest, body, events, _sqlite_time(now), "processing" if claim else "received",
                      1 if claim else 0, _sqlite_time(lease))
    else:
        row = (integration_id, digest, body, events, now, "processing" if claim else "received", 1 if claim else 0,
               lease)
    alive = (integration_id, token_sha256) if token_sha256 is not None else ()
    insert, again = _accept_sql(dialect, token_sha256 is not None)
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        if dialect == "sqlite":
            cur.execute("BEGIN IMMEDIATE")  # a writer from the start (see auditor.db.make_engine)
        try:
            cur.execute(insert, row + alive)
            new = cur.fetchone()
            old = None if new is not None else cur.execute(again, (integration_id, digest) + alive).fetchone()
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    finally:
        conn.close()
    if new is not None:
        return Accepted(int(new[0]), False, events)
    if old is None:  # the integration was removed (its inbox with it)
        forget_hook_target(engine, token_sha256 or "")
        return None
    return Accepted(int(old[0]), True, events)


def _claim(app: Flask, inbox_id: int, now: datetime) -> bool:
    t = InboxEntry.__table__
    with transaction(services(app).sessions) as s:
        claimable = sa.or_(t.c.state == "received", sa.and_(t.c.state == "processing", t.c.lease_until < now))
        done = s.execute(sa.update(t).where(t.c.id == inbox_id, claimable)
                         .values(state="processing", attempts=t.c.attempts + 1, lease_until=now + LEASE))
        return done.rowcount == 1


@dataclass
class Processed:
    """What processing an inbox entry (or an import) did."""

    state: str
    events: int = 0
    withdrawn: int = 0
    hard_bounces: int = 0
    invalid: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"state": self.state, "events": self.events, "withdrawn": self.withdrawn, "hard_bounces": self.hard_bounces, "invalid": len(self.invalid)}


def process_entry(app: Flask, inbox_id: int, events: list[ProviderEvent] | None = None, *,
                  held_by_caller: Integration | HookTarget | None = None) -> Processed:
    """Process one inbox entry exactly once (a no-op when another holds it or it is done).

    Inline processing passes the body already parsed (``events``) and the integration of an
    entry it accepted claimed (``held_by_caller``): no second parse, claim or read.
    """
    t = InboxEntry.__table__
    if held_by_caller is not None and events is not None:
        integration, body, attempts = held_by_caller, b"", 1
    else:
        if not _claim(app, inbox_id, datetime.now(UTC)):
            with services(app).sessions() as s:
                return Processed(s.scalar(sa.select(InboxEntry.state).where(InboxEntry.id == inbox_id)) or "missing")
        with services(app).sessions() as s:
            entry = s.get(InboxEntry, inbox_id)
            integration = s.get(Integration, entry.integration_id)
            body = entry.body or b""
            attempts = entry.attempts
    try:
        if events is None:
            events = parse_payload(integration.provider, body)
        result = ingest(app, integration, events, inbox_id, finish=True)
    except Exception as exc:
        state = "failed" if attempts >= MAX_ATTEMPTS else "received"
        with transaction(services(app).sessions) as s:
            s.execute(sa.update(t).where(t.c.id == inbox_id)
                      .values(state=state, lease_until=None, error=f"{type(exc).__name__}: {exc}"[:2000]))
        app.logger.exception("webhook inbox entry %s failed (attempt %s)", inbox_id, attempts)
        return Processed(state)
    if result.state != "processed":  # withdrawals were appended after the events' transaction
        with transaction(services(app).sessions) as s:
            _mark_processed(s, inbox_id, result)
        result.state = "processed"
    return result


def _mark_processed(s: Session, inbox_id: int, result: Processed) -> None:
    t = InboxEntry.__table__
    note = f"{len(result.invalid)} unusable recipient(s)" if result.invalid else None
    s.execute(sa.update(t).where(t.c.id == inbox_id).values(
        state="processed", body=None, lease_until=None, processed_at=datetime.now(UTC), error=note))


def pending(app: Flask, limit: int = 1000, after: int = 0) -> list[int]:
    """Inbox entries to (re)process: received, or processing with an expired lease (ids > ``after``)."""
    t = InboxEntry.__table__
    now = datetime.now(UTC)
    with services(app).sessions() as s:
        return list(s.scalars(sa.select(t.c.id).where(t.c.id > after, sa.or_(
            t.c.state == "received", sa.and_(t.c.state == "processing", t.c.lease_until < now)))
            .order_by(t.c.id).limit(limit)))


def process_pending(app: Flask, limit: int = 1000, *, until_empty: bool = False) -> dict[str, int]:
    """Process the ``pending`` entries (up to ``limit``; ``until_empty``: page after page until none
    is left, each entry tried once); how many ended in each state."""
    states: dict[str, int] = {}
    after = 0
    while True:
        ids = pending(app, limit, after)
        for inbox_id in ids:
            state = process_entry(app, inbox_id).state
            states[state] = states.get(state, 0) + 1
        if not until_empty or not ids:
            return states
        after = ids[-1]


# --- events into the stores -------------------------------------------------------------------

def address_sha256(normalised: str) -> str:
    """SHA-256 hex of a normalised address (what suppression exports show of erased people)."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def store_events(session: Session, rows: list[dict[str, Any]], inbox_id: int) -> list[int]:
    """INSERT delivery events (an event already stored is skipped) and return the ids of the rows
    this batch stored: the roll-up's input.

    The ids are read back above the highest id before the INSERT, by this entry and the events'
    ids: whichever index the planner takes (the primary key's range, the entry's), it reads only
    this batch. Read by integration, a new integration on a large table before ANALYZE looked
    empty to the planner, and each batch scanned all its events. An ``INSERT .. RETURNING`` of
    many rows costs PostgreSQL four times the plain INSERT.
    """
    table = DeliveryEvent.__table__
    before = session.scalar(sa.select(sa.func.max(table.c.id))) or 0
    session.execute(dialect_insert(session)(table).on_conflict_do_nothing(
        index_elements=["integration_id", "provider_event_id"]), rows)
    ids: list[int] = []
    for n in range(0, len(rows), 500):  # each way in is an index: the entry's, or the primary key's range
        ids += session.scalars(sa.select(table.c.id).where(
            table.c.id > before, table.c.inbox_id == inbox_id,
            table.c.provider_event_id.in_([r["provider_event_id"] for r in rows[n:n + 500]])))
    return ids


def ingest(app: Flask, integration: Integration | HookTarget, events: Iterable[ProviderEvent], inbox_id: int, *,
           finish: bool = False) -> Processed:
    """Store provider events once each and apply their consequences (see the module's steps 2-3).

    Hard bounces are recorded in the events' own transaction (idempotent). ``finish``: mark the
    inbox entry processed there too when no withdrawal is left to append (the common batch:
    one write transaction); otherwise the caller marks it after the ledger append.
    """
    from auditor.ledger.services import get_ledger

    ledger = get_ledger(app)
    events = list(events)
    out = Processed("processing", events=len(events))
    channel = integration.channel
    now = datetime.now(UTC)
    # Each distinct address normalised once: its pseudonym and the SHA-256 of its normalised form.
    known = {raw: (found[1], address_sha256(found[0]))
             for raw, found in ledger.normalise_and_pseudonymise([e.recipient for e in events], channel).items()
             if type(found) is tuple}
    rows, usable = [], {}
    for e in events:
        if e.recipient not in known:
            out.invalid.append(e.recipient)
            continue
        p, digest = known[e.recipient]
        usable[e.event_id] = (e, p, digest)
        rows.append({"integration_id": integration.id, "inbox_id": inbox_id, "provider_event_id": e.event_id,
                     "kind": e.kind, "provider_type": e.provider_type[:64], "recipient_pseudonym": p,
                     "recipient_sha256": digest, "esp_campaign": e.esp_campaign,
                     "campaign_id": e.campaign_id or (campaign_of_url(app, e.url) if e.url else None),
                     "reason": e.reason, "event_at": e.occurred_at.astimezone(UTC), "received_at": now})
    table = DeliveryEvent.__table__
    consequential = [r["provider_event_id"] for r in rows if r["kind"] in WITHDRAWAL_KINDS or r["kind"] == HARD_BOUNCE]
    with transaction(services(app).sessions) as s:
        if rows:
            roll_up(s, integration.id, store_events(s, rows, inbox_id))
        claimed: set[str] = set()
        for i in range(0, len(consequential), 500):
            claimed.update(s.scalars(sa.select(table.c.provider_event_id).where(  # by entry (its index)
                table.c.inbox_id == inbox_id, table.c.provider_event_id.in_(consequential[i:i + 500]))))
        mine = [usable[eid] for eid in consequential if eid in claimed]
        withdrawing = [m for m in mine if m[0].kind in WITHDRAWAL_KINDS]
        out.hard_bounces = _suppress(s, integration, [m for m in mine if m[0].kind == HARD_BOUNCE])
        if finish and not withdrawing:
            _mark_processed(s, inbox_id, out)
            out.state = "processed"
    out.withdrawn = _withdraw(app, ledger, integration, withdrawing)
    return out


def evidence_urn(integration: Integration | HookTarget, e: ProviderEvent) -> str:
    """Where a withdrawal came from, as the ledger keeps it: provider, integration and event id."""
    return f"urn:auditor:integration:{integration.provider}:{integration.id}:event:{e.event_id}"


def withdrawal_sources(session: Session, history: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """Per ledger seq of a withdrawal that came from an integration: provider, integration, event id."""
    found = {}
    for e in history:
        url = (e.get("evidence") or {}).get("source_url") or ""
        if e.get("type") == "withdrawn" and url.startswith("urn:auditor:integration:"):
            provider, iid, _event, event_id = url.removeprefix("urn:auditor:integration:").split(":", 3)
            found[e["seq"]] = {"provider": provider, "integration_id": iid, "event_id": event_id}
    if found:
        ids = {int(f["integration_id"]) for f in found.values() if f["integration_id"].isdigit()}
        names = dict(session.execute(sa.select(Integration.id, Integration.name).where(Integration.id.in_(ids))).all())
        for f in found.values():
            f["integration"] = names.get(int(f["integration_id"]), f"#{f['integration_id']} (removed)")
    return found


def _withdraw(app: Flask, ledger: Any, integration: Integration | HookTarget,
              items: list[tuple[ProviderEvent, str, str]]) -> int:
    """Append ``withdrawn`` once per person, unless already stopped or consent was given after."""
    if not items:
        return 0
    # The state read and the append are one step per channel and purpose in this process: two
    # entries drained at once (two threads, the same unsubscribe in both) each read "not stopped"
    # and appended a second withdrawal. Worker processes (Celery) can still race: see
    # docs/integrations.md.
    with _WITHDRAWING.setdefault((integration.channel, integration.purpose), threading.Lock()):
        return _withdraw_locked(ledger, integration, items)


_WITHDRAWING: dict[tuple[str, str], threading.Lock] = {}


def _withdraw_locked(ledger: Any, integration: Integration | HookTarget,
                     items: list[tuple[ProviderEvent, str, str]]) -> int:
    from consent_ledger import EventIn, Evidence

    first: dict[str, tuple[ProviderEvent, str, str]] = {}
    for item in sorted(items, key=lambda m: m[0].occurred_at):
        first.setdefault(item[1], item)
    states = ledger.current_states(list(first), integration.channel, integration.purpose)
    batch = []
    now = datetime.now(UTC)
    for p, (e, _p, _digest) in first.items():
        state = states.get(p)
        if state is not None and state.status in STOPPED:
            continue
        if state is not None and state.granted_at is not None and _aware(state.granted_at) > e.occurred_at:
            # Consent given again after the provider's event (a late, out-of-order delivery of an
            # old unsubscribe): the newer expression of will stands (GDPR art. 7(3)).
            continue
        complaint = e.kind == "complaint"
        batch.append(EventIn(
            type="withdrawn", subject=e.recipient, channel=integration.channel, purpose=integration.purpose,
            controller=integration.controller, method="esp_complaint" if complaint else "esp_unsubscribe",
            # a provider clock ahead of ours must not get the unsubscribe refused as "claimed in the
            # future": it is claimed now, and the provider's own time stays in the reason
            evidence=Evidence(source_url=evidence_urn(integration, e)), claimed_at=min(e.occurred_at, now),
            reason=(f"{'complaint' if complaint else 'unsubscribe'}: {integration.provider} "
                    f"{e.provider_type} event {e.event_id} at {e.occurred_at.isoformat()}")[:500]))
    if batch:
        ledger.append(batch, actor=f"integration:{integration.name}")
    return len(batch)


def _suppress(s: Session, integration: Integration | HookTarget, items: list[tuple[ProviderEvent, str, str]]) -> int:
    """Record hard bounces in the session's transaction (the first per address stays)."""
    if not items:
        return 0
    rows = {}
    for e, p, digest in sorted(items, key=lambda m: m[0].occurred_at):
        rows.setdefault(p, {"pseudonym": p, "channel": integration.channel, "recipient_sha256": digest,
                            "integration_id": integration.id, "provider_event_id": e.event_id,
                            "reason": e.reason, "bounced_at": e.occurred_at.astimezone(UTC),
                            "created_at": datetime.now(UTC)})
    table = BounceSuppression.__table__
    s.execute(dialect_insert(s)(table).on_conflict_do_nothing(index_elements=["pseudonym", "channel"]), list(rows.values()))
    return len(rows)


def hard_bounced(conn: Any, pseudonyms: list[str], channel: str) -> dict[str, str]:
    """Per pseudonym that hard-bounced on ``channel``: why (one batched lookup, for the gate)."""
    from consent_ledger.db import select_in

    if not pseudonyms:
        return {}
    bounced = conn.execute(sa.text("SELECT count(*) FROM bounce_suppressions WHERE channel = :c"),
                           {"c": channel}).scalar()
    if not bounced:
        return {}
    if bounced * 4 < len(pseudonyms):
        # Fewer bounces than recipients (the usual list): reading them all and intersecting here
        # costs a fifth of looking 100,000 keys up (bench/integrations.py, docs/integrations.md).
        wanted = set(pseudonyms)
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        cursor = conn.connection.dbapi_connection.cursor()  # plain tuples: no per-row SQLAlchemy work
        try:
            cursor.execute(f"SELECT pseudonym, reason, bounced_at FROM bounce_suppressions WHERE channel = {mark}",  # noqa: S608
                           (channel,))
            rows = [r for r in cursor.fetchall() if r[0] in wanted]
        finally:
            cursor.close()
    else:
        rows = select_in(conn, "SELECT pseudonym, reason, bounced_at FROM bounce_suppressions "
                         "WHERE channel = ? AND pseudonym IN", sorted(set(pseudonyms)), (channel,))
    return {p: msg("the address hard-bounced at {time}: {reason}", time=str(at)[:19], reason=reason)
            if reason else msg("the address hard-bounced at {time}", time=str(at)[:19]) for p, reason, at in rows}
