"""``auditor backup`` / ``auditor restore``: the database and the instance keys in one archive.

The ledger key is part of the backup on purpose: without it no pseudonym can be looked up
again. In the archive the keys are sealed with a passphrase (scrypt, RFC 7914, derives an
AES-256-GCM key), or left out with ``--without-keys``; the archive is written with mode 0600.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy.engine import URL, Engine, make_url

from auditor.cli import emit, fail, get_app, migrate
from auditor.db import utcnow

KEY_FILES = ("secret_key", "ledger_key", "signing_key.pem")
SEALED = "keys.sealed"
# scrypt cost: 2**15 x 8 x 128 bytes = 32 MiB and ~0.1 s per guess (RFC 7914 section 2).
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
AAD = b"auditor backup keys v1"
MIN_PASSPHRASE = 8


# --- sealing the keys -----------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def seal_keys(files: dict[str, bytes], passphrase: str) -> bytes:
    """The key files as one scrypt + AES-GCM sealed JSON document."""
    salt, nonce = os.urandom(16), os.urandom(12)
    kek = Scrypt(salt=salt, length=32, **SCRYPT).derive(passphrase.encode())
    plain = json.dumps({name: _b64(data) for name, data in files.items()}).encode()
    return json.dumps({"kdf": "scrypt", **SCRYPT, "salt": _b64(salt), "nonce": _b64(nonce),
                       "ciphertext": _b64(AESGCM(kek).encrypt(nonce, plain, AAD))}).encode()


def open_keys(sealed: bytes, passphrase: str) -> dict[str, bytes]:
    """The key files of a sealed document; ValueError if the passphrase is wrong."""
    doc = json.loads(sealed)
    kek = Scrypt(salt=base64.b64decode(doc["salt"]), length=32, n=doc["n"], r=doc["r"],
                 p=doc["p"]).derive(passphrase.encode())
    try:
        plain = AESGCM(kek).decrypt(base64.b64decode(doc["nonce"]), base64.b64decode(doc["ciphertext"]), AAD)
    except InvalidTag:
        raise ValueError("wrong passphrase: the archive's keys cannot be decrypted with it") from None
    return {name: base64.b64decode(data) for name, data in json.loads(plain).items() if name in KEY_FILES}


def read_passphrase(stdin: bool, file: Path | None) -> str | None:
    """The passphrase from standard input or a file (first line), or None if neither was given."""
    if stdin and file:
        fail("give --passphrase-stdin or --passphrase-file, not both")
    if stdin:
        text = sys.stdin.readline()
    elif file:
        try:
            text = file.read_text(encoding="utf-8").splitlines()[0] if file.stat().st_size else ""
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read the passphrase file {file}: {getattr(exc, 'strerror', None) or exc}")
    else:
        return None
    text = text.rstrip("\r\n")
    if len(text) < MIN_PASSPHRASE:
        fail(f"the passphrase is shorter than {MIN_PASSPHRASE} characters")
    return text


def key_fingerprint(ledger_key: bytes) -> str:
    """A short digest naming the ledger key (the manifest tells a restore whether it has it)."""
    return hashlib.sha256(b"auditor ledger key id\0" + ledger_key).hexdigest()[:16]


# --- the database -----------------------------------------------------------------------------

def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it (not argv: ``ps``)."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                      database=url.database, query=url.query)
    return bare.render_as_string(hide_password=False), env


def _last_line(stderr: str | None, code: int) -> str:
    lines = (stderr or "").strip().splitlines()
    return lines[-1] if lines else f"exit status {code}"


def _ledger_facts(app) -> dict[str, Any]:
    try:
        from auditor.ledger.services import get_ledger
    except ImportError:
        return {}
    ledger = get_ledger(app)
    return {"ledger_size": ledger.size(), "checkpoint": ledger.latest_checkpoint()}


# Tables whose rows the migrations themselves write: present in every fresh instance.
SEEDED = ("ledger_lock",)


def _is_empty(engine: Engine) -> bool:
    """True if no table holds a row but those the migrations write: a fresh instance, nothing to lose."""
    names = [n for n in sa.inspect(engine).get_table_names()
             if not n.startswith("alembic_version") and n not in SEEDED]
    with engine.connect() as c:
        return not any(c.execute(sa.select(sa.literal(1)).select_from(sa.table(n)).limit(1)).first()
                       for n in names)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(utcnow().timestamp())
    tar.addfile(info, io.BytesIO(data))


def write_backup(app, out: Path, passphrase: str | None) -> dict[str, Any]:
    """Write the archive (keys sealed with ``passphrase``, or left out if None); returns its manifest."""
    from auditor.migrations import current
    from auditor.services import services

    svc = services(app)
    engine, folder = svc.engine, svc.settings.instance_path
    manifest: dict[str, Any] = {"format": 2, "created_at": utcnow().isoformat(), "dialect": engine.dialect.name,
                                "revision": current(engine), "keys": "sealed" if passphrase else "omitted",
                                "ledger_key_id": key_fingerprint(svc.ledger_key), **_ledger_facts(app)}
    # A new file (mode 0600 from the start) renamed over the target: an old file's mode never survives.
    fd, partial = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with tempfile.TemporaryDirectory() as tmp, os.fdopen(fd, "wb") as fh, \
                tarfile.open(fileobj=fh, mode="w:gz") as tar:
            if engine.dialect.name == "sqlite":
                copy = Path(tmp) / "db.sqlite"
                src, dst = sqlite3.connect(engine.url.database), sqlite3.connect(copy)
                with dst:
                    src.backup(dst)  # consistent online copy, even while the service writes
                src.close()
                dst.close()
                tar.add(copy, "database.sqlite")
            else:
                dump = Path(tmp) / "db.pgdump"
                url, env = _libpq(engine)
                proc = subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), url],
                                      capture_output=True, text=True, env=env)
                if proc.returncode:
                    fail(f"pg_dump failed: {_last_line(proc.stderr, proc.returncode)}")
                tar.add(dump, "database.pgdump")
            if passphrase:
                files = {n: (folder / n).read_bytes() for n in KEY_FILES if (folder / n).exists()}
                _add_bytes(tar, SEALED, seal_keys(files, passphrase))
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2, default=str).encode())
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return manifest


# --- restore ----------------------------------------------------------------------------------

def _archive_keys(tar: tarfile.TarFile, passphrase: str | None, skip: bool) -> dict[str, bytes]:
    names = tar.getnames()
    if skip:
        return {}
    if SEALED in names:
        if passphrase is None:
            fail("the archive's keys are sealed: give --passphrase-stdin or --passphrase-file "
                 "(or --without-keys to keep this instance's keys)")
        try:
            return open_keys(tar.extractfile(SEALED).read(), passphrase)
        except ValueError as exc:
            fail(str(exc))
    # Archives of format 1 held the key files in clear.
    return {Path(n).name: tar.extractfile(n).read() for n in names
            if n.startswith("keys/") and Path(n).name in KEY_FILES}


def _write_key(path: Path, data: bytes) -> None:
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(partial, path)


def _reload_keys(app, folder: Path) -> None:
    """Make the running app use the restored keys (unless settings override the files)."""
    from auditor import instance
    from auditor.services import services

    svc, settings = services(app), services(app).settings
    if not settings.secret_key:
        svc.secret_key = app.config["SECRET_KEY"] = instance.secret_key(folder)
    if not settings.ledger_key:
        svc.ledger_key = instance.ledger_key(folder)
    if not settings.signing_key:
        svc.signing_key = instance.load_signing_key(instance.signing_key_pem(folder))
    svc.__dict__.pop("public_key_pem", None)
    svc.extras.pop("ledger", None)


def read_backup(app, archive: Path, force: bool, passphrase: str | None, without_keys: bool) -> dict[str, Any]:
    """Restore the archive into the configured database and instance folder."""
    from auditor.services import services

    svc = services(app)
    engine, folder = svc.engine, svc.settings.instance_path
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        fail(f"cannot read {archive}: {exc}")
    with tar:
        names = tar.getnames()
        if "manifest.json" not in names:
            fail(f"{archive} is not an Auditor backup (no manifest.json)")
        manifest = json.loads(tar.extractfile("manifest.json").read())
        keys = _archive_keys(tar, passphrase, without_keys)
        fresh = _is_empty(engine)
        if not fresh and not force:
            fail("the target database holds data; use --force to replace it")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, data in keys.items():
            # A fresh instance's own keys protect nothing yet; an instance with data needs --force.
            target = folder / name
            if target.exists() and target.read_bytes() != data and not (fresh or force):
                fail(f"{target} differs from the backup's key; use --force to replace it")
            _write_key(target, data)
        with tempfile.TemporaryDirectory() as tmp:
            if "database.sqlite" in names:
                if engine.dialect.name != "sqlite":
                    fail("this backup is of SQLite; restore it into a SQLite database")
                tar.extract("database.sqlite", tmp, filter="data")
                engine.dispose()
                dst, src = sqlite3.connect(engine.url.database), sqlite3.connect(Path(tmp) / "database.sqlite")
                with dst:
                    src.backup(dst)
                src.close()
                dst.close()
            elif "database.pgdump" in names:
                if engine.dialect.name != "postgresql":
                    fail("this backup is of PostgreSQL; restore it into a PostgreSQL database")
                tar.extract("database.pgdump", tmp, filter="data")
                engine.dispose()
                url, env = _libpq(engine)
                proc = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "-d", url,
                                       str(Path(tmp) / "database.pgdump")], capture_output=True, text=True, env=env)
                if proc.returncode:
                    fail(f"pg_restore failed: {_last_line(proc.stderr, proc.returncode)}")
            else:
                fail(f"{archive} holds no database")
    _reload_keys(app, folder)
    return manifest


def verdict(app, manifest: dict[str, Any]) -> dict[str, Any]:
    """Verify the restored ledger against the backup's checkpoint; ``cause`` says why when not ok."""
    try:
        from auditor.ledger.services import get_ledger
    except ImportError:
        return {"ok": True}
    svc = app.extensions["auditor"]
    ledger = get_ledger(app)
    report = ledger.verify()
    out: dict[str, Any] = {"verify_ok": report.ok, "ledger_size": ledger.size(), "first_bad_seq": report.first_bad_seq}
    causes = []
    if manifest.get("ledger_key_id") and manifest["ledger_key_id"] != key_fingerprint(svc.ledger_key):
        causes.append("missing key: this instance's ledger key is not the backup's, so no subject "
                      "can be looked up (restore the archive's keys)")
    cp = manifest.get("checkpoint")
    if cp and cp.get("key_id") and cp["key_id"] != ledger.key_id:
        causes.append(f"missing key: the checkpoints were signed by key {cp['key_id']}, this instance "
                      f"signs with {ledger.key_id} (restore the archive's keys)")
    if not report.ok:
        causes.append(f"the ledger does not verify: first bad seq {report.first_bad_seq}: {report.problem}")
    matches = None
    if cp:
        matches = False
        if ledger.size() < cp["size"]:
            causes.append(f"the ledger holds {ledger.size()} events, the backup's checkpoint {cp['size']}")
        else:
            matches = ledger.consistency_proof(cp["size"], ledger.size()).get("first_root") == cp["root"]
            if not matches:
                causes.append(f"the ledger's first {cp['size']} events are not those of the backup's checkpoint")
    out.update(checkpoint_matches=matches, ok=not causes, causes=causes)
    return out


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path))
@click.option("--passphrase-stdin", is_flag=True, help="read the passphrase that seals the keys from stdin")
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="read that passphrase from the first line of a file")
@click.option("--without-keys", is_flag=True, help="leave the instance keys out (back them up elsewhere)")
@click.option("--json", "as_json", is_flag=True)
def backup(out: Path, passphrase_stdin: bool, passphrase_file: Path | None, without_keys: bool,
           as_json: bool) -> None:
    """Write the database and the sealed instance keys to an archive (mode 0600)."""
    if out.is_dir():
        fail(f"--out {out} is a folder; name the archive file")
    if not out.parent.is_dir():
        fail(f"--out: the folder {out.parent} does not exist")
    passphrase = read_passphrase(passphrase_stdin, passphrase_file)
    if passphrase is None and not without_keys:
        fail("the archive holds the instance keys: give --passphrase-stdin or --passphrase-file to "
             "seal them, or --without-keys to leave them out")
    if passphrase is not None and without_keys:
        fail("--without-keys takes no passphrase")
    app = get_app()
    if shutil.which("pg_dump") is None and app.extensions["auditor"].engine.dialect.name != "sqlite":
        fail("pg_dump is not installed (apt-get install postgresql-client)")
    try:
        manifest = write_backup(app, out, passphrase)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    if as_json:
        emit({"archive": str(out), **manifest})
    else:
        click.echo(f"backup written to {out} ({manifest['dialect']}, keys {manifest['keys']}, "
                   f"ledger size {manifest.get('ledger_size', 'n/a')})")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-stdin", is_flag=True, help="read the passphrase of the sealed keys from stdin")
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--without-keys", is_flag=True, help="keep this instance's keys, restore only the database")
@click.option("--force", is_flag=True, help="replace a database that holds data, and differing keys")
@click.option("--json", "as_json", is_flag=True)
def restore(archive: Path, passphrase_stdin: bool, passphrase_file: Path | None, without_keys: bool,
            force: bool, as_json: bool) -> None:
    """Restore an archive, then verify the ledger against the backup's checkpoint (exit 1 if not)."""
    app = get_app()
    passphrase = read_passphrase(passphrase_stdin, passphrase_file)
    manifest = read_backup(app, archive, force, passphrase, without_keys)
    migrate(app)
    result = {"restored": str(archive), "manifest": manifest, **verdict(app, manifest)}
    if as_json:
        emit(result)
    elif result["ok"]:
        click.echo(f"restored {archive}; the ledger verifies ({result.get('ledger_size', 0)} events"
                   + (", consistent with the backup's checkpoint)" if result.get("checkpoint_matches") else ")"))
    else:
        click.echo(f"restored {archive}, but:", err=True)
        for cause in result["causes"]:
            click.echo(f"  {cause}", err=True)
    if not result["ok"]:
        raise SystemExit(1)


commands = [backup, restore]
