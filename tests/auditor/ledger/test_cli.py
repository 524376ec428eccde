"""``auditor ledger ...`` as an operator types it."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from sqlalchemy import text

from consent_ledger.schema import drop_trigger_ddl


def _append(runner, subject="ann@example.org", kind="granted", *extra):
    return runner.invoke(["ledger", "append", "--type", kind, "--subject", subject, "--channel", "email",
                          "--purpose", "marketing", *extra])


def _public_key(app, tmp_path):
    key = app.extensions["auditor"].signing_key.public_key()
    path = tmp_path / "ledger.pub.pem"
    path.write_bytes(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def test_append_status_history(runner):
    r = _append(runner, "Ann@Example.org", "granted", "--source-url", "https://shop.example/f", "--ip", "192.0.2.1",
                "--notice-version", "v1", "--notice-sha256", "b" * 64, "--claimed-at", "2026-11-01T09:00:00Z",
                "--separate-document", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["seq"] == 1
    assert _append(runner, "ann@example.org", "withdrawn").exit_code == 0
    r = runner.invoke(["ledger", "status", "ANN@example.org", "--json"])
    [state] = json.loads(r.output)["states"]
    assert (state["status"], state["last_seq"], state["separate_document"]) == ("withdrawn", 2, True)
    r = runner.invoke(["ledger", "history", "ann@example.org"])
    assert r.exit_code == 0 and "granted" in r.output and "withdrawn" in r.output


def test_append_refuses_a_bad_address_with_exit_2(runner):
    r = _append(runner, "not-an-address")
    assert r.exit_code == 2
    assert "subject" in r.output and "not a valid email address" in r.output


def test_import_keeps_good_rows_and_reports_bad_lines(runner, tmp_path):
    path = tmp_path / "consents.csv"
    path.write_text(
        "type,subject,channel,purpose,source_url,separate_document,claimed_at\n"
        "granted,a@example.org,email,marketing,https://x.example/f,true,2026-11-01T10:00:00Z\n"
        "granted,not-an-address,email,marketing,,,\n"
        "granted,+7 916 123 45 67,sms,marketing,,no,\n"
        "granted,b@example.org,email,marketing,,maybe,\n"
        "sent,c@example.org,email,marketing,,,\n"
        "granted,d@example.org,email,marketing,,,2026-13-01\n", encoding="utf-8")
    r = runner.invoke(["ledger", "import", str(path), "--batch-size", "2", "--json"])
    assert r.exit_code == 1
    out = json.loads(r.output)
    assert (out["imported"], out["bad"]) == (2, 4)
    lines = {e["line"]: e["error"] for e in out["errors"]}
    assert set(lines) == {3, 5, 6, 7}
    assert "subject" in lines[3] and "separate_document" in lines[5] and "type" in lines[6]
    assert "claimed_at" in lines[7]
    r = runner.invoke(["ledger", "status", "+79161234567", "--json"])
    assert json.loads(r.output)["states"][0]["status"] == "granted"


def test_import_of_jsonl_all_good_exits_0(runner, tmp_path):
    path = tmp_path / "c.jsonl"
    rows = [{"type": "granted", "subject": f"j{i}@example.org", "channel": "email", "purpose": "marketing",
             "evidence": {"notice_version": "v2", "pre_ticked": False}} for i in range(5)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    r = runner.invoke(["ledger", "import", str(path)])
    assert r.exit_code == 0, r.output
    assert "imported 5 event(s) (seq 1..5)" in r.output


def test_import_of_unusable_input_exits_2(runner, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("email,consent\nx@y.org,yes\n", encoding="utf-8")
    r = runner.invoke(["ledger", "import", str(path)])
    assert r.exit_code == 2 and "unknown CSV column" in r.output
    r = runner.invoke(["ledger", "import", str(tmp_path / "missing.csv")])
    assert r.exit_code == 2 and "cannot read" in r.output


def test_verify_prove_and_verify_proof_offline(runner, app, tmp_path):
    for i in range(5):
        assert _append(runner, f"p{i}@example.org").exit_code == 0
    cp = json.loads(runner.invoke(["ledger", "checkpoint", "--json"]).output)
    assert cp["size"] == 5
    r = runner.invoke(["ledger", "verify", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
    proof = tmp_path / "proof.json"
    assert runner.invoke(["ledger", "prove", "--seq", "3", "--out", str(proof)]).exit_code == 0
    key = _public_key(app, tmp_path)
    r = runner.invoke(["ledger", "verify-proof", str(proof), "--public-key", str(key)])
    assert r.exit_code == 0 and "seq 3: valid" in r.output
    doc = json.loads(proof.read_text())
    doc["event"]["purpose"] = "news"
    proof.write_text(json.dumps(doc))
    r = runner.invoke(["ledger", "verify-proof", str(proof), "--public-key", str(key)])
    assert r.exit_code == 1 and "INVALID" in r.output
    subject_proofs = tmp_path / "subject.json"
    assert runner.invoke(["ledger", "prove", "p1@example.org", "--out", str(subject_proofs)]).exit_code == 0
    r = runner.invoke(["ledger", "verify-proof", str(subject_proofs), "--public-key", str(key), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["proofs"][0]["seq"] == 2


def test_verify_proof_needs_no_database(tmp_path, runner, app):
    """Run the command in a fresh process-like context with a bogus database URL."""
    assert _append(runner, "solo@example.org").exit_code == 0
    proof = tmp_path / "p.json"
    runner.invoke(["ledger", "prove", "--seq", "1", "--out", str(proof)])
    key = _public_key(app, tmp_path)
    from click.testing import CliRunner

    from auditor.cli import cli

    result = CliRunner().invoke(cli, ["ledger", "verify-proof", str(proof), "--public-key", str(key)],
                                env={"AUDITOR_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                                     "AUDITOR_INSTANCE_PATH": str(tmp_path / "elsewhere")})
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_verify_exits_1_naming_the_first_bad_seq(runner, app):
    for i in range(4):
        _append(runner, f"t{i}@example.org")
    engine = app.extensions["auditor"].engine
    with engine.begin() as conn:
        for stmt in drop_trigger_ddl(engine.dialect.name):
            conn.exec_driver_sql(stmt)
        conn.execute(text("DELETE FROM ledger_events WHERE seq = 2"))
    r = runner.invoke(["ledger", "verify"])
    assert r.exit_code == 1
    assert "first bad seq 2" in r.output


def test_erase_destroys_the_identity(runner, app):
    _append(runner, "gone@example.org")
    r = runner.invoke(["ledger", "erase", "gone@example.org", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["seq"] == 2
    from auditor.ledger.services import get_ledger

    ledger = get_ledger(app)
    assert ledger.identity(ledger.pseudonym_of("gone@example.org")) is None
    assert runner.invoke(["ledger", "verify"]).exit_code == 0
    assert runner.invoke(["ledger", "erase", "never@example.org"]).exit_code == 2
