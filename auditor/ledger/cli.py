"""``auditor ledger ...``: append, import, status, history, checkpoint, verify, prove, erase."""

from __future__ import annotations

import json
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from auditor.cli import emit, fail, get_app, migrate
from consent_ledger import EventIn, Evidence, InvalidEvent, InvalidIdentifier, Ledger, ProofError
from consent_ledger.identifiers import is_pseudonym

MAX_REPORTED = 1000  # bad rows listed in --json output; the count covers them all


def _ledger() -> Ledger:
    from auditor.ledger.services import get_ledger

    app = get_app()
    migrate(app)
    return get_ledger(app)


def _progress(total: int | None, unit: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, disable=not sys.stderr.isatty(),
                dynamic_ncols=True, unit_scale=True)


def _subject(ledger: Ledger, subject: str, channel: str | None = None) -> str:
    if is_pseudonym(subject):
        return subject
    try:
        # Without a channel, any identifier form is tried ("*"): the error then says what was expected.
        return ledger.pseudonym_of(subject, channel or ("email" if "@" in subject else "*"))
    except InvalidIdentifier as exc:
        fail(str(exc))


def open_import(file: Path, as_json: bool) -> tuple[Any, str]:
    """An import file as text in its detected encoding (cp1251, UTF-16, BOM); exit 2 when unusable."""
    from consent_ledger.textfile import UndecodableFile, open_text

    try:
        stream, encoding = open_text(file)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except UndecodableFile as exc:
        fail(f"{file}: {exc}")
    if encoding not in ("utf-8", "utf-8-sig") and not as_json:
        click.echo(f"{file.name}: read as {encoding}", err=True)
    return stream, encoding


def finish_import(counts: dict[str, Any], bad: list[dict[str, Any]], warned: list[dict[str, Any]],
                  as_json: bool, *, mode: str | None = None) -> None:
    """The import's report (one JSON document, or one line) for either path; exit 1 when rows were bad."""
    if as_json:
        emit({**counts, **({"mode": mode} if mode else {}), "errors": bad,
              "errors_truncated": counts["bad"] > len(bad), "warnings_list": warned})
    else:
        click.echo(f"imported {counts['imported']} event(s)" + (f" in {mode}" if mode else "")
                   + (f" (seq {counts['first_seq']}..{counts['last_seq']})" if counts["imported"] else "")
                   + (f"; {counts['warnings']} recorded without effect (see warnings)" if counts["warnings"] else "")
                   + (f"; {counts['bad']} bad or refused row(s) skipped" if counts["bad"] else ""))
    if counts["bad"]:
        raise SystemExit(1)


@click.group("ledger")
def ledger_group() -> None:
    """The consent ledger: record, look up, prove, verify, erase."""


@ledger_group.command("append")
@click.option("--type", "type_", required=True, type=click.Choice(["granted", "confirmed", "withdrawn"]))
@click.option("--subject", help="email address or phone number")
@click.option("--pseudonym", help="the subject's pseudonym instead of --subject")
@click.option("--channel", default="email", show_default=True, help="'*' with withdrawn: every channel")
@click.option("--purpose", default="marketing", show_default=True, help="'*' with withdrawn: every purpose")
@click.option("--controller")
@click.option("--jurisdiction")
@click.option("--legal-basis")
@click.option("--method")
@click.option("--source-url")
@click.option("--ip")
@click.option("--user-agent")
@click.option("--notice-version")
@click.option("--notice-sha256")
@click.option("--separate-document/--not-separate-document", default=None)
@click.option("--pre-ticked/--not-pre-ticked", default=None)
@click.option("--bundled/--not-bundled", default=None)
@click.option("--claimed-at", help="RFC 3339 time the consent was given")
@click.option("--expires-at", help="RFC 3339 time the consent lapses")
@click.option("--reason")
@click.option("--actor", default="cli", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def append_cmd(type_: str, subject: str | None, pseudonym: str | None, actor: str, as_json: bool,
               **fields: Any) -> None:
    """Append one consent event."""
    ev = {k: fields.pop(k) for k in ("source_url", "ip", "user_agent", "notice_version", "notice_sha256",
                                     "separate_document", "pre_ticked", "bundled")}
    event = EventIn(type=type_, subject=subject, pseudonym=pseudonym,
                    evidence=Evidence(**ev) if any(v is not None for v in ev.values()) else None, **fields)
    try:
        [done] = _ledger().append([event], actor)
    except InvalidEvent as exc:
        fail("; ".join(f"{e['field']}: {e['message']}" for e in exc.errors))
    if as_json:
        emit({k: v for k, v in vars(done).items() if k != "index"})
    else:
        click.echo(f"appended seq {done.seq} ({type_}, {done.pseudonym[:16]}…) at {done.recorded_at}")
        if done.warning:
            click.echo(f"warning: {done.warning}")


@ledger_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="default: by the file extension")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 50000))
@click.option("--actor", default="cli:import", show_default=True)
@click.option("--bulk/--no-bulk", default=None,
              help="prepare in worker processes, one writer (default: from 100,000 rows on)")
@click.option("--workers", type=click.IntRange(1, 64), help="--bulk: preparing processes (default: up to 2)")
@click.option("--resume-from", "resume_from", default=1, type=click.IntRange(1),
              help="skip the file's lines before this one (the line an interrupted import reported)")
@click.option("--json", "as_json", is_flag=True)
def import_cmd(file: Path, fmt: str | None, batch_size: int, actor: str, bulk: bool | None, workers: int | None,
               resume_from: int, as_json: bool) -> None:
    """Import consent events from CSV or JSON Lines; bad rows are reported, good rows kept.

    Exit 0 when every row was imported, 1 when some rows were bad (the rest are in the
    ledger), 2 when the file cannot be used at all.
    """
    import heapq

    from consent_ledger.importing import UnusableInput, read_rows

    if bulk is not False:
        from auditor.ledger.bulk_cli import bulk_import

        if bulk_import(file, fmt, batch_size, actor, bulk, workers, resume_from, as_json):
            return

    fmt = fmt or ("jsonl" if file.suffix.lower() in (".jsonl", ".ndjson") else "csv")
    stream, encoding = open_import(file, as_json)
    ledger = _ledger()
    bad: list[dict[str, Any]] = []
    warned: list[dict[str, Any]] = []
    counts = {"imported": 0, "bad": 0, "warnings": 0, "first_seq": None, "last_seq": None, "encoding": encoding}
    lines: deque[list[int]] = deque()
    # Bad rows are found when read and bad events when their batch is appended: held in a heap
    # and let out in line order once no earlier line can still turn out bad.
    pending: list[tuple[int, int, str]] = []

    def report(line: int, message: str) -> None:
        heapq.heappush(pending, (line, counts["bad"], message))
        counts["bad"] += 1

    def flush(upto: float) -> None:
        while pending and pending[0][0] <= upto:
            line, _, message = heapq.heappop(pending)
            if len(bad) < MAX_REPORTED:
                bad.append({"line": line, "error": message})
            if not as_json:
                click.echo(f"{file.name}:{line}: {message}", err=True)

    def batches() -> Iterator[list[EventIn]]:
        batch: list[EventIn] = []
        batch_lines: list[int] = []
        read = 0  # rows read into this batch, good or bad: the bulk import groups them the same way
        for row in read_rows(stream, fmt):
            if row.line < resume_from:
                continue
            read += 1
            if row.event is None:
                report(row.line, row.error or "bad row")
                # Rows before the first event still in flight can no longer turn out bad.
                flush(min(batch_lines[0] if batch_lines else row.line + 1,
                          lines[0][0] if lines else row.line + 1) - 1)
            else:
                batch.append(row.event)
                batch_lines.append(row.line)
            if read >= batch_size:
                read = 0
                if batch:
                    lines.append(batch_lines)
                    yield batch
                    batch, batch_lines = [], []
        if batch:
            lines.append(batch_lines)
            yield batch

    with stream, _progress(None, "rows") as bar:
        try:
            for done, errors in ledger.append_stream(batches(), actor, keep_good=True):
                batch_lines = lines.popleft()
                for e in errors:
                    report(batch_lines[e["index"]], f"{e['field']}: {e['message']}")
                for a in done:
                    if a.warning:
                        counts["warnings"] += 1
                        if len(warned) < MAX_REPORTED:
                            warned.append({"line": batch_lines[a.index], "seq": a.seq, "warning": a.warning})
                        if not as_json:
                            click.echo(f"{file.name}:{batch_lines[a.index]}: warning: {a.warning}", err=True)
                if done:
                    counts["imported"] += len(done)
                    counts["first_seq"] = counts["first_seq"] or done[0].seq
                    counts["last_seq"] = done[-1].seq
                flush(batch_lines[-1])
                bar.update(len(batch_lines))
        except (UnusableInput, UnicodeDecodeError) as exc:
            fail(f"{file}: {exc}")
        flush(float("inf"))
    finish_import(counts, bad, warned, as_json)


def _state_dict(s: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in s._asdict().items()}


@ledger_group.command("status")
@click.argument("subject")
@click.option("--channel")
@click.option("--purpose")
@click.option("--json", "as_json", is_flag=True)
def status_cmd(subject: str, channel: str | None, purpose: str | None, as_json: bool) -> None:
    """Current consent of a subject (email, phone or pseudonym) per channel and purpose."""
    ledger = _ledger()
    p = _subject(ledger, subject, channel)
    states = [s for s in ledger.states_of(p)
              if (channel is None or s.channel == channel) and (purpose is None or s.purpose == purpose)]
    if as_json:
        emit({"pseudonym": p, "states": [_state_dict(s) for s in states]})
        return
    if not states:
        click.echo(f"no consent recorded for {subject}")
    for s in states:
        click.echo(f"{s.channel}/{s.purpose}: {s.status}{' (confirmed)' if s.confirmed else ''}"
                   f"{f', expires {s.expires_at:%Y-%m-%d}' if s.expires_at else ''}"
                   f"{'' if s.evidence_complete else ', evidence incomplete'} — last seq {s.last_seq}")


@ledger_group.command("history")
@click.argument("subject")
@click.option("--json", "as_json", is_flag=True)
def history_cmd(subject: str, as_json: bool) -> None:
    """Every event of a subject, oldest first, as hashed."""
    ledger = _ledger()
    p = _subject(ledger, subject)
    events = ledger.history(p)
    if as_json:
        emit({"pseudonym": p, "events": events})
        return
    if not events:
        click.echo(f"no events for {subject}")
    for e in events:
        click.echo(f"{e['seq']:>8}  {e['recorded_at']}  {e['type']:<9}  {e['channel']}/{e['purpose']}"
                   f"  by {e['actor']}")


@ledger_group.command("checkpoint")
@click.option("--json", "as_json", is_flag=True)
def checkpoint_cmd(as_json: bool) -> None:
    """Sign and store a checkpoint now."""
    cp = _ledger().checkpoint()
    if as_json:
        emit(cp)
    else:
        click.echo(f"checkpoint size {cp['size']} root {cp['root']} at {cp['time']}")


@ledger_group.command("verify")
@click.option("--json", "as_json", is_flag=True)
def verify_cmd(as_json: bool) -> None:
    """Recompute every leaf, node, checkpoint and the projection; exit 1 naming the first bad seq."""
    ledger = _ledger()
    with _progress(ledger.size(), "events") as bar:
        report = ledger.verify(progress=bar.update)
    if as_json:
        emit(report.to_dict())
    elif report.ok:
        click.echo(f"ledger intact: {report.size} events, {report.checkpoints_checked} checkpoints verified")
    else:
        click.echo(f"ledger TAMPERED: first bad seq {report.first_bad_seq}: {report.problem}")
    if not report.ok:
        raise SystemExit(1)


@ledger_group.command("prove")
@click.argument("subject", required=False)
@click.option("--seq", type=click.IntRange(1), help="the event to prove instead of a subject's events")
@click.option("--size", type=click.IntRange(1), help="tree size to prove against (default: latest checkpoint)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write here instead of stdout")
def prove_cmd(subject: str | None, seq: int | None, size: int | None, out: Path | None) -> None:
    """Inclusion proof(s) of one event or of all a subject's events, against a signed checkpoint."""
    if (subject is None) == (seq is None):
        fail("give a SUBJECT or --seq N")
    ledger = _ledger()
    try:
        if seq is not None:
            doc: Any = ledger.inclusion_proof(seq, size)
        else:
            seqs = [e["seq"] for e in ledger.history(_subject(ledger, subject))]
            if not seqs:
                fail(f"no events for {subject}")
            cp_size = size or max(seqs)
            cp = ledger.latest_checkpoint()
            if size is None and cp is not None and cp["size"] >= max(seqs):
                cp_size = cp["size"]
            doc = {"proofs": [ledger.inclusion_proof(s, cp_size) for s in seqs]}
    except (LookupError, ValueError) as exc:
        fail(str(exc))
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"proof written to {out}", err=True)


@ledger_group.command("verify-proof")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--public-key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the ledger's Ed25519 public key (PEM)")
@click.option("--json", "as_json", is_flag=True)
def verify_proof_cmd(file: Path, key_file: Path, as_json: bool) -> None:
    """Check a proof file offline: needs only the file and the public key (no database)."""
    from auditor.api import loads_limited
    from consent_ledger.proofs import load_public_key, verify_consistency, verify_inclusion

    try:
        doc = loads_limited(file.read_text(encoding="utf-8"))
        pem = key_file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {exc.filename}: {exc.strerror}")
    except ValueError as exc:
        fail(f"{file} is not JSON: {exc}")
    try:
        load_public_key(pem)
    except ProofError as exc:
        fail(f"{key_file}: {exc}")
    proofs = doc["proofs"] if isinstance(doc, dict) and isinstance(doc.get("proofs"), list) else [doc]
    results = []
    for i, proof in enumerate(proofs):
        try:
            if isinstance(proof, dict) and "first_root" in proof:
                verify_consistency(proof)
            else:
                verify_inclusion(proof, pem)
            results.append({"index": i, "ok": True, "seq": (proof.get("event") or {}).get("seq")})
        except ProofError as exc:
            seq = proof.get("event", {}).get("seq") if isinstance(proof, dict) and isinstance(
                proof.get("event"), dict) else None
            results.append({"index": i, "ok": False, "seq": seq, "error": str(exc)})
    ok = bool(results) and all(r["ok"] for r in results)
    if as_json:
        emit({"ok": ok, "proofs": results})
    else:
        for r in results:
            what = f"seq {r['seq']}" if r.get("seq") else f"proof {r['index']}"
            click.echo(f"{what}: " + ("valid" if r["ok"] else f"INVALID: {r['error']}"))
    if not ok:
        raise SystemExit(1)


@ledger_group.command("erase")
@click.argument("subject")
@click.option("--reason", default="data subject request", show_default=True)
@click.option("--actor", default="cli", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def erase_cmd(subject: str, reason: str, actor: str, as_json: bool) -> None:
    """Crypto-shred a subject's identity and append ``erased`` (152-FZ art. 21, GDPR art. 17)."""
    from auditor.accounts.services import record
    from auditor.db import transaction
    from auditor.services import services

    ledger = _ledger()
    p = _subject(ledger, subject)
    try:
        done = ledger.erase(p, actor, reason)
    except LookupError as exc:
        fail(str(exc))
    with transaction(services(get_app()).sessions) as s:
        record(s, actor, "ledger.erase", f"pseudonym:{p}", seq=done.seq, noop=done.warning is not None)
    if as_json:
        emit({k: v for k, v in vars(done).items() if k != "index"})
    elif done.warning:
        click.echo(f"{p[:16]}… {done.warning}")
    else:
        click.echo(f"erased {p[:16]}…: identity key and sealed evidence destroyed, seq {done.seq} appended")


commands = [ledger_group]
