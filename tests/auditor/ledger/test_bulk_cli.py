"""``auditor ledger import --bulk`` and the automatic switch to it, as an operator types them."""

from __future__ import annotations

import json

from consent_ledger import bulkload

CSV = ("type,subject,channel,purpose,ip,claimed_at\n"
       + "".join(f"granted,p{i}@example.org,email,marketing,192.0.2.{i},2026-11-01T10:00:00Z\n" for i in range(8))
       + "granted,not-an-address,email,marketing,,\n"
       + "withdrawn,p1@example.org,email,marketing,,\n")


def test_bulk_import_reports_bad_lines_keeps_good_rows_and_says_where_to_resume(runner, tmp_path):
    path = tmp_path / "consents.csv"
    path.write_text(CSV, encoding="utf-8")
    r = runner.invoke(["ledger", "import", str(path), "--bulk", "--batch-size", "3", "--json"])
    assert r.exit_code == 1, r.output
    out = json.loads(r.output)
    assert (out["mode"], out["imported"], out["bad"], out["next_line"]) == ("bulk", 9, 1, 12)
    assert [e["line"] for e in out["errors"]] == [10]
    r = runner.invoke(["ledger", "status", "p1@example.org", "--json"])
    assert json.loads(r.output)["states"][0]["status"] == "withdrawn"
    r = runner.invoke(["ledger", "verify", "--json"])
    assert r.exit_code == 0, r.output


def test_resume_from_a_line_imports_only_what_follows(runner, tmp_path):
    path = tmp_path / "consents.csv"
    path.write_text(CSV, encoding="utf-8")
    r = runner.invoke(["ledger", "import", str(path), "--bulk", "--resume-from", "8", "--json"])
    out = json.loads(r.output)
    assert (out["imported"], out["first_seq"], out["last_seq"]) == (3, 1, 3)  # lines 8, 9 and 11


def test_large_files_go_bulk_on_their_own_only_when_a_threshold_is_set(runner, tmp_path, monkeypatch):
    path = tmp_path / "consents.csv"
    path.write_text(CSV, encoding="utf-8")
    out = json.loads(runner.invoke(["ledger", "import", str(path), "--json"]).output)
    assert "mode" not in out and out["imported"] == 9  # default: streaming unless --bulk
    path = tmp_path / "again.csv"
    path.write_text(CSV.replace("@example.org", "@example.net"), encoding="utf-8")
    monkeypatch.setattr(bulkload, "AUTO_ROWS", 5)
    out = json.loads(runner.invoke(["ledger", "import", str(path), "--json"]).output)
    assert out.get("mode") == "bulk"
    monkeypatch.setattr(bulkload, "AUTO_ROWS", 1000)
    path.write_text(CSV.replace("@example.org", "@example.com"), encoding="utf-8")
    out = json.loads(runner.invoke(["ledger", "import", str(path), "--json"]).output)
    assert "mode" not in out and out["imported"] == 9  # the streaming import, below the threshold


def test_bulk_import_of_json_lines(runner, tmp_path):
    path = tmp_path / "consents.jsonl"
    path.write_text('{"type": "granted", "subject": "j@example.org", "channel": "email", "purpose": "marketing",'
                    ' "evidence": {"ip": "192.0.2.5"}}\n\n{"type": "granted"}\n', encoding="utf-8")
    r = runner.invoke(["ledger", "import", str(path), "--bulk", "--json"])
    out = json.loads(r.output)
    assert (r.exit_code, out["imported"], [e["line"] for e in out["errors"]]) == (1, 1, [3])
    history = json.loads(runner.invoke(["ledger", "history", "j@example.org", "--json"]).output)
    assert "192.0.2.5" in json.dumps(history)
