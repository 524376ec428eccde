"""Out: an approved campaign's audience (who the gate allows now) and the suppression list."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from auditor.campaigns.models import Campaign
from auditor.integrations.models import BounceSuppression
from auditor.services import services
from consent_ledger.identifiers import normalise_identifier
from consent_ledger.vault import derive_kek, unseal

AUDIENCE_COLUMNS = ("recipient", "unsubscribe_url", "list_unsubscribe", "list_unsubscribe_post")
SUPPRESSION_COLUMNS = ("recipient", "recipient_sha256", "reason", "channel", "purpose", "at", "source")
CHUNK = 5000
_LIVE = ("granted", "confirmed")


class NotApproved(ValueError):
    """The campaign is not approved: it has no audience to export."""


def _identities(app: Flask, conn: Any, pseudonyms: list[str]) -> dict[str, str]:
    """Pseudonym -> address, from the vault (erased people have no entry)."""
    from consent_ledger.db import select_in

    kek = derive_kek(services(app).ledger_key)
    rows = select_in(conn, "SELECT pseudonym, wrapped_key, sealed FROM ledger_vault WHERE pseudonym IN", pseudonyms)
    return {p: unseal(kek, p, bytes(w), bytes(s)) for p, w, s in rows}


def audience(app: Flask, campaign_id: int) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(recipient, unsubscribe URL, headers) of everyone the gate would allow now, in chunks.

    The candidates are the people with live consent for the campaign's channel and purpose; the
    gate's own code then decides (consent rules, policy, hard bounces) and signs the URLs.
    """
    from auditor.campaigns.coverage import evaluate_recipients
    from auditor.campaigns.services import current_policy
    from auditor.gate.services import GateAnswer, _facts, _hard_bounced, unsubscribe_signing_key
    from auditor.gate.tokens import UnsubscribeSigner
    from auditor.ledger.services import get_ledger

    with services(app).sessions() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise LookupError(f"no campaign {campaign_id}")
        if campaign.status != "approved":
            raise NotApproved(f"the campaign is {campaign.status}, not approved")
    ledger = get_ledger(app)
    facts, policy = _facts(app, campaign), current_policy(app)
    sign = UnsubscribeSigner(unsubscribe_signing_key(app), campaign.id, campaign.channel, campaign.purpose).token
    base = services(app).settings.public_url + "/u/"
    answer = GateAnswer(campaign.id, [], [], datetime.now(UTC), 0, campaign.channel == "email")
    after = ""
    while True:
        with services(app).engine.connect() as conn:
            live = list(conn.execute(sa.text(
                "SELECT pseudonym FROM ledger_states WHERE channel = :c AND purpose = :p AND pseudonym > :a "
                "AND status IN ('granted', 'confirmed') ORDER BY pseudonym LIMIT :n"),
                {"c": campaign.channel, "p": campaign.purpose, "a": after, "n": CHUNK}).scalars())
            if not live:
                return
            after = live[-1]
            who = _identities(app, conn, live)
        verdicts = evaluate_recipients(ledger, list(who.values()), facts=facts, policy=policy, now=datetime.now(UTC))
        bounced = _hard_bounced(app, verdicts, campaign.channel)
        for raw, p, outcome in verdicts:
            if not outcome.blocking and p not in bounced:
                url = base + sign(p)
                yield raw, url, answer.headers(url)


def audience_lines(rows: Iterator[tuple[str, str, dict[str, str]]], fmt: str) -> Iterator[str]:
    """The audience as CSV (header first) or JSON Lines text."""
    if fmt == "csv":
        yield _csv_line(AUDIENCE_COLUMNS)
        for raw, url, h in rows:
            yield _csv_line((raw, url, h.get("List-Unsubscribe", ""), h.get("List-Unsubscribe-Post", "")))
    else:
        for raw, url, h in rows:
            yield json.dumps({"recipient": raw, "unsubscribe_url": url, "headers": h}, ensure_ascii=False) + "\n"


def _csv_line(values: Any) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


def _sha(app: Flask, conn: Any, pseudonyms: list[str]) -> dict[str, str]:
    """Pseudonym -> SHA-256 of the normalised address, where integrations saw the address."""
    from consent_ledger.db import select_in

    rows = select_in(conn, "SELECT recipient_pseudonym, recipient_sha256 FROM delivery_events "
                     "WHERE recipient_pseudonym IN", pseudonyms)
    rows += select_in(conn, "SELECT pseudonym, recipient_sha256 FROM bounce_suppressions WHERE pseudonym IN",
                      pseudonyms)
    return dict(rows)


def suppressions(app: Flask, since: datetime | None) -> Iterator[dict[str, Any]]:
    """Everyone withdrawn, complained, hard-bounced or erased since ``since`` (by when Auditor learnt it).

    A withdrawal is listed only while it stands: a person who consented again since is left out.

    Erased people appear only as SHA-256 of the normalised address, and only when an integration
    saw the address before the erasure (the ledger keeps no address of an erased person).
    """
    from consent_ledger.events import format_time

    mark = format_time(since) if since else ""
    with services(app).engine.connect() as conn:
        events = conn.execute(sa.text(
            "SELECT pseudonym, type, channel, purpose, event, recorded_at FROM ledger_events "
            "WHERE type IN ('withdrawn', 'erased') AND recorded_at >= :m ORDER BY seq"), {"m": mark}).all()
        b = BounceSuppression.__table__.c
        query = sa.select(b.pseudonym, b.channel, b.bounced_at, b.reason, b.provider_event_id).order_by(b.created_at)
        bounces = conn.execute(query.where(b.created_at >= since) if since else query).all()
        wanted = sorted({r[0] for r in events} | {r[0] for r in bounces})
        who = _identities(app, conn, wanted) if wanted else {}
        digests = _sha(app, conn, [p for p in wanted if p not in who]) if wanted else {}
        stopped = _still_stopped(conn, sorted({r[0] for r in events if r[1] == "withdrawn"}))
    for p, type_, channel, purpose, text, recorded in events:
        ev = json.loads(text)
        if type_ == "withdrawn" and (p, channel, purpose) not in stopped:
            continue  # consent was given again since: an ESP must not suppress them any more
        if type_ == "erased":
            if p in digests:
                yield _row(None, digests[p], "erased", None, None, recorded, "ledger")
            continue
        reason = "complaint" if ev.get("method") == "esp_complaint" else "withdrawn"
        source = (ev.get("evidence") or {}).get("source_url") or ev.get("method") or "ledger"
        yield _row(who.get(p), None if p in who else digests.get(p), reason, channel, purpose,
                   ev.get("claimed_at") or recorded, source)
    for p, channel, bounced_at, reason, event_id in bounces:
        at = _iso(bounced_at)
        yield _row(who.get(p), None if p in who else digests.get(p), "hard_bounce", channel, None, at,
                   f"event {event_id}" + (f": {reason}" if reason else ""))


def _still_stopped(conn: Any, pseudonyms: list[str]) -> set[tuple[str, str, str]]:
    """(pseudonym, channel, purpose) whose current state is still withdrawn or erased."""
    from consent_ledger.db import select_in

    if not pseudonyms:
        return set()
    rows = select_in(conn, "SELECT pseudonym, channel, purpose FROM ledger_states "
                     "WHERE status IN ('withdrawn', 'erased') AND pseudonym IN", pseudonyms)
    return {tuple(r) for r in rows}


def _iso(ts: datetime) -> str:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()


def _row(recipient: str | None, digest: str | None, reason: str, channel: str | None, purpose: str | None,
         at: str, source: str) -> dict[str, Any]:
    if recipient is None and digest is None:
        return {}
    if recipient is not None:
        return {"recipient": recipient, "reason": reason, "channel": channel, "purpose": purpose,
                "at": at, "source": source}
    return {"recipient_sha256": digest, "reason": reason, "channel": channel, "purpose": purpose,
            "at": at, "source": source}


def suppression_lines(rows: Iterator[dict[str, Any]], fmt: str) -> Iterator[str]:
    """Suppression rows as CSV (header first) or JSON Lines text; empty rows are skipped."""
    if fmt == "csv":
        yield _csv_line(SUPPRESSION_COLUMNS)
    for row in rows:
        if not row:
            continue
        if fmt == "csv":
            yield _csv_line(tuple(row.get(c) for c in SUPPRESSION_COLUMNS))
        else:
            yield json.dumps(row, ensure_ascii=False) + "\n"


def sha256_of(raw: str, channel: str = "email") -> str:
    """SHA-256 hex of an identifier's normalised form (how erased people are listed)."""
    return hashlib.sha256(normalise_identifier(raw, channel).encode("utf-8")).hexdigest()
