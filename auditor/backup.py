"""``auditor backup`` / ``auditor restore``: the database and the instance keys in one archive.

The ledger key is part of the backup on purpose: without it no pseudonym can be looked up
again. The archive is therefore as secret as the keys (written with mode 0600).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import Engine, make_url

from auditor.cli import emit, fail, get_app, migrate
from auditor.db import utcnow

KEY_FILES = ("secret_key", "ledger_key", "signing_key.pem")


def _libpq_url(engine: Engine) -> str:
    url = make_url(engine.url.render_as_string(hide_password=False)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _ledger_facts(app) -> dict[str, Any]:
    try:
        from auditor.ledger.services import get_ledger
    except ImportError:
        return {}
    ledger = get_ledger(app)
    return {"ledger_size": ledger.size(), "checkpoint": ledger.latest_checkpoint()}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(utcnow().timestamp())
    tar.addfile(info, io.BytesIO(data))


def write_backup(app, out: Path) -> dict[str, Any]:
    """Write the archive; returns its manifest."""
    from auditor.migrations import current
    from auditor.services import services

    svc = services(app)
    engine, folder = svc.engine, svc.settings.instance_path
    manifest: dict[str, Any] = {"format": 1, "created_at": utcnow().isoformat(), "dialect": engine.dialect.name,
                                "revision": current(engine), **_ledger_facts(app)}
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with tempfile.TemporaryDirectory() as tmp, os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
        if engine.dialect.name == "sqlite":
            copy = Path(tmp) / "db.sqlite"
            src = sqlite3.connect(engine.url.database)
            dst = sqlite3.connect(copy)
            with dst:
                src.backup(dst)  # consistent online copy, even while the service writes
            src.close()
            dst.close()
            tar.add(copy, "database.sqlite")
        else:
            dump = Path(tmp) / "db.pgdump"
            proc = subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), _libpq_url(engine)],
                                  capture_output=True, text=True)
            if proc.returncode:
                fail(f"pg_dump failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}")
            tar.add(dump, "database.pgdump")
        for name in KEY_FILES:
            if (folder / name).exists():
                _add_bytes(tar, f"keys/{name}", (folder / name).read_bytes())
        _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2, default=str).encode())
    return manifest


def _restore_keys(tar: tarfile.TarFile, folder: Path, force: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for member in tar.getmembers():
        if not member.name.startswith("keys/") or Path(member.name).name not in KEY_FILES:
            continue
        data = tar.extractfile(member).read()
        target = folder / Path(member.name).name
        if target.exists() and target.read_bytes() != data and not force:
            fail(f"{target} differs from the backup's key; use --force to replace it")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)


def read_backup(app, archive: Path, force: bool) -> dict[str, Any]:
    """Restore the archive into the configured database and instance folder."""
    from sqlalchemy import inspect

    from auditor.services import services

    svc = services(app)
    engine = svc.engine
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        fail(f"cannot read {archive}: {exc}")
    with tar:
        names = tar.getnames()
        if "manifest.json" not in names:
            fail(f"{archive} is not an Auditor backup (no manifest.json)")
        manifest = json.loads(tar.extractfile("manifest.json").read())
        has_tables = bool(inspect(engine).get_table_names())
        if has_tables and not force:
            fail("the target database is not empty; use --force to replace it")
        _restore_keys(tar, svc.settings.instance_path, force)
        with tempfile.TemporaryDirectory() as tmp:
            if "database.sqlite" in names:
                if engine.dialect.name != "sqlite":
                    fail("this backup is of SQLite; restore it into a SQLite database")
                tar.extract("database.sqlite", tmp, filter="data")
                engine.dispose()
                dst = sqlite3.connect(engine.url.database)
                src = sqlite3.connect(Path(tmp) / "database.sqlite")
                with dst:
                    src.backup(dst)
                src.close()
                dst.close()
            elif "database.pgdump" in names:
                if engine.dialect.name != "postgresql":
                    fail("this backup is of PostgreSQL; restore it into a PostgreSQL database")
                tar.extract("database.pgdump", tmp, filter="data")
                engine.dispose()
                proc = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "-d",
                                       _libpq_url(engine), str(Path(tmp) / "database.pgdump")],
                                      capture_output=True, text=True)
                if proc.returncode:
                    fail(f"pg_restore failed: {proc.stderr.strip().splitlines()[-1]}")
            else:
                fail(f"{archive} holds no database")
    return manifest


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def backup(out: Path, as_json: bool) -> None:
    """Write the database and the instance keys to an archive (mode 0600)."""
    if shutil.which("pg_dump") is None and get_app().extensions["auditor"].engine.dialect.name != "sqlite":
        fail("pg_dump is not installed (apt-get install postgresql-client)")
    manifest = write_backup(get_app(), out)
    if as_json:
        emit({"archive": str(out), **manifest})
    else:
        click.echo(f"backup written to {out} ({manifest['dialect']}, ledger size {manifest.get('ledger_size', 'n/a')})")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace a non-empty database and differing keys")
@click.option("--json", "as_json", is_flag=True)
def restore(archive: Path, force: bool, as_json: bool) -> None:
    """Restore an archive, then verify the ledger against the backup's checkpoint (exit 1 if not)."""
    app = get_app()
    manifest = read_backup(app, archive, force)
    migrate(app)
    result: dict[str, Any] = {"restored": str(archive), "manifest": manifest}
    ok = True
    try:
        from auditor.ledger.services import get_ledger
    except ImportError:
        get_ledger = None
    if get_ledger is not None and manifest.get("checkpoint"):
        app.extensions["auditor"].extras.pop("ledger", None)
        ledger = get_ledger(app)
        report = ledger.verify()
        cp = manifest["checkpoint"]
        proof = ledger.consistency_proof(cp["size"], ledger.size()) if ledger.size() >= cp["size"] else None
        matches = proof is not None and proof.get("first_root") == cp["root"]
        ok = bool(report.ok and matches)
        result.update(verify_ok=report.ok, checkpoint_matches=matches, ledger_size=ledger.size())
    if as_json:
        emit(result)
    else:
        click.echo(f"restored {archive}" + ("" if "verify_ok" not in result else
                   f"; ledger verifies: {result['verify_ok']}, matches checkpoint: {result['checkpoint_matches']}"))
    if not ok:
        raise SystemExit(1)


commands = [backup, restore]
