"""Golden test: what ``Ledger.prepare`` produces for varied events stays byte for byte the same.

The stored format must not change when preparation is made faster. With a fixed ledger key and
clock, every output of ``prepare`` is deterministic except the AES-GCM nonces (random): sealed
boxes are compared by their decrypted plaintexts, everything else byte for byte (canonical JSON
around the lock's fields, pseudonyms, vault identifiers, errors, the leaf inputs of a fixed
recording time). The expected values are in ``golden_prepare.json``, recorded before the
preparation was reworked; regenerate only for an intended format change
(``python -m tests.consent_ledger.test_prepare_golden``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent_ledger import EventIn, Evidence, Ledger
from consent_ledger.ledger import sequence_events
from consent_ledger.merkle import Frontier
from consent_ledger.vault import open_personal, unseal, unwrap

GOLDEN = Path(__file__).with_name("golden_prepare.json")
KEY = bytes(range(32))
NOW = datetime(2026, 11, 30, 6, 0, 0, 123456, tzinfo=UTC)
RECORDED = "2026-11-30T06:00:00.123456Z"
PSEUDO = "ab" * 32
PSEUDO2 = "0f" * 32
SHA = "AB" * 32
MSK = timezone(timedelta(hours=3))


def _full(**kw: Any) -> Evidence:
    base: dict[str, Any] = {"source_url": "https://shop.example/signup", "ip": "192.0.2.10",
                            "user_agent": "Mozilla/5.0", "notice_version": "v3", "notice_sha256": SHA,
                            "separate_document": True, "pre_ticked": False, "bundled": False}
    return Evidence(**{**base, **kw})


def items_first() -> list[Any]:
    """Every type, channel and evidence shape, good and bad."""
    g = dict(type="granted", channel="email", purpose="marketing")
    return [
        EventIn(**g, subject="Alice@Example.COM"),
        EventIn(**g, subject=" bob+news@example.com ", evidence=_full(), jurisdiction="ru",
                legal_basis="Consent", method="Web_Form", controller=" Shop LLC ",
                claimed_at="2026-11-01T10:00:00Z", expires_at=datetime(2027, 11, 1, 13, tzinfo=MSK)),
        EventIn(**g, subject="пользователь@пример.рф", evidence=_full(ip="2001:DB8::1", user_agent="Агент/1.0"),
                reason="  подписка на рассылку  "),
        EventIn(**g, subject="user@münchen.de", evidence=_full(ip=None, user_agent=None)),
        EventIn(type="confirmed", channel="email", purpose="marketing", subject="alice@example.com",
                method="double_opt_in", claimed_at=datetime(2026, 11, 2, 10, 0, 0, 5, tzinfo=MSK)),
        EventIn(type="granted", channel="sms", purpose="marketing", subject="8 (916) 123-45-67",
                evidence=_full(ip="10.0.0.1")),
        EventIn(type="granted", channel="voice", purpose="service", subject="+7 916 123 45 67",
                jurisdiction="eu", evidence=Evidence(separate_document=False)),
        EventIn(type="granted", channel="push", purpose="marketing", subject="tok-ABC_123"),
        EventIn(type="granted", channel="messenger:telegram", purpose="alerts", subject="handle_1",
                evidence=Evidence(user_agent="Bot \u00e9\u00e8 \U0001F600")),
        EventIn(type="granted", channel="messenger:whatsapp", purpose="alerts", subject="+44 20 7946 0958"),
        EventIn(type="granted", channel="push", purpose="marketing", subject="carol@example.org"),
        EventIn(type="withdrawn", channel="*", purpose="*", subject="bob+news@example.com",
                reason="stop", claimed_at="2026-11-03T10:00:00.5+03:00"),
        EventIn(type="withdrawn", channel="email", purpose="*", subject="ALICE@example.com"),
        EventIn(type="withdrawn", channel="*", purpose="marketing", pseudonym=PSEUDO, evidence=_full(ip="::1")),
        EventIn(**g, pseudonym=PSEUDO2, reason="kiosk", evidence=Evidence(notice_version="v1")),
        EventIn(**g, pseudonym=PSEUDO2),
        EventIn(**g, subject="quote\"back\\slash@example.com"),
        EventIn(**g, subject="dave@example.com", evidence=_full(source_url="urn:isbn:1", notice_sha256=None,
                                                                 ip="192.168.1.1")),
        EventIn(**g, subject="eve@example.com", claimed_at="2026-11-30T06:04:00Z"),  # within the skew
        # bad ones
        EventIn(type="granted", channel="*", purpose="marketing", subject="x@example.com"),
        EventIn(type="erased", channel="email", purpose="marketing", subject="x@example.com"),
        EventIn(type="granted", channel="fax", purpose="marketing", subject="x@example.com"),
        EventIn(type="granted", channel="email", purpose="Bad Purpose", subject="x@example.com"),
        EventIn(**g, subject="not an address"),
        EventIn(type="granted", channel="sms", purpose="marketing", subject="12"),
        EventIn(**g),
        EventIn(**g, subject="x@example.com", pseudonym=PSEUDO),
        EventIn(**g, pseudonym="AB" * 32),
        EventIn(**g, subject="x@example.com", claimed_at="2026-11-30T07:00:00Z"),
        EventIn(**g, subject="x@example.com", claimed_at="2026-11-30T06:00:00"),
        EventIn(**g, subject="x@example.com", expires_at="yesterday"),
        EventIn(**g, subject="x@example.com", jurisdiction="Russia"),
        EventIn(**g, subject="x@example.com", method="web form"),
        EventIn(**g, subject="x@example.com", evidence=Evidence(ip="999.1.1.1")),
        EventIn(**g, subject="x@example.com", evidence=Evidence(notice_sha256="abc")),
        EventIn(**g, subject="x@example.com", evidence=Evidence(source_url="ftp://x")),
        EventIn(**g, subject="x@example.com", evidence=Evidence(pre_ticked="yes")),  # type: ignore[arg-type]
        EventIn(**g, subject="x@example.com", reason="a\x00b"),
        EventIn(**g, subject="x@example.com", controller="c" * 301),
        "not an event",
    ]


def items_second() -> list[Any]:
    """Subjects met in the first batch (vault rows exist), one known by pseudonym until now."""
    g = dict(type="granted", channel="email", purpose="marketing")
    return [
        EventIn(**g, subject="alice@example.com", evidence=_full(ip="198.51.100.7")),
        EventIn(**g, subject="new@example.com"),
    ]


def _clean(text: str, boxes: dict[str, str]) -> str:
    return re.sub(r'"box":"([^"]+)"', lambda m: '"box":' + json.dumps(boxes[m.group(1)]), text)


def snapshot(ledger: Ledger, items: list[Any]) -> dict[str, Any]:
    """Everything ``prepare`` produced, with each sealed box replaced by its plaintext."""
    prepared = ledger.prepare(items, " importer ", keep_good=True)
    keys = {p: unwrap(ledger._kek, p, w) for p, w, _ in prepared.vault}  # noqa: SLF001
    with ledger.engine.connect() as conn:
        for p, w in conn.exec_driver_sql("SELECT pseudonym, wrapped_key FROM ledger_vault"):
            keys.setdefault(p, unwrap(ledger._kek, p, bytes(w)))  # noqa: SLF001
    boxes: dict[str, str] = {}
    bodies = []
    for body in prepared.bodies:
        body = json.loads(json.dumps(body))
        if body["personal"] and "box" in body["personal"]:
            box = body["personal"]["box"]
            boxes[box] = open_personal(keys[body["pseudonym"]], body["pseudonym"], box).decode()
            body["personal"]["box"] = boxes[box]
        bodies.append(body)
    rows, out, refused = sequence_events(Frontier(0, []), {}, {}, prepared.bodies, prepared.parts,
                                         prepared.indexes, RECORDED)
    return {
        "bodies": bodies,
        "parts": [[_clean(h, boxes), t] for h, t in prepared.parts],
        "leaf_inputs": [_clean(r[5], boxes) for r in rows],
        "rows": [[r[0], r[1], r[2], r[3], r[4], r[8]] for r in rows],
        "warnings": [a.warning for a in out],
        "refused": refused,
        "vault": [[p, unseal(ledger._kek, p, w, s)] for p, w, s in prepared.vault],  # noqa: SLF001
        "fill": [[p, unseal(ledger._kek, p, next(w for q, w in _vault(ledger) if q == p), s)]  # noqa: SLF001
                 for p, s in prepared.fill],
        "errors": prepared.errors,
        "indexes": prepared.indexes,
        "plain": {str(i): t.decode() for i, t in sorted(prepared.plain.items())},
        "actor": prepared.actor,
    }


def _vault(ledger: Ledger) -> list[tuple[str, bytes]]:
    with ledger.engine.connect() as conn:
        return [(p, bytes(w)) for p, w in conn.exec_driver_sql("SELECT pseudonym, wrapped_key FROM ledger_vault")]


def run(engine: Any) -> dict[str, Any]:
    """Both batches: the first prepared on an empty ledger and committed, then the second."""
    ledger = Ledger(engine, KEY, Ed25519PrivateKey.generate(), clock=lambda: NOW)
    first = snapshot(ledger, items_first())
    ledger.commit(ledger.prepare(items_first(), "importer", keep_good=True), keep_good=True)
    ledger.append([EventIn(type="granted", channel="email", purpose="marketing",
                           pseudonym=ledger.pseudonym_of("new@example.com"), reason="kiosk")], "importer")
    return {"first": first, "second": snapshot(ledger, items_second())}


def test_prepare_output_is_unchanged(engine) -> None:
    got = json.loads(json.dumps(run(engine)))
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got["first"]["errors"] == want["first"]["errors"]
    for name in want["first"]:
        assert got["first"][name] == want["first"][name], name
    assert got == want


if __name__ == "__main__":  # regenerate (only for an intended format change)
    import tempfile

    from auditor.db import make_engine
    from auditor.migrations import upgrade

    with tempfile.TemporaryDirectory() as folder:
        eng = make_engine(f"sqlite:///{folder}/golden.db")
        upgrade(eng)
        GOLDEN.write_text(json.dumps(run(eng), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
