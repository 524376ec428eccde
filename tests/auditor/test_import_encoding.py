"""Import files in the encodings spreadsheets write are detected; errors come in line order."""

from __future__ import annotations

import json

import pytest

from consent_ledger.textfile import UndecodableFile, detect_encoding, open_text

HEADER = "type,subject,channel,purpose,notice_version,reason\n"
ROWS = [f"granted,клиент{i}@пример.рф,email,marketing,Согласие на рассылку v{i},\n" for i in range(3)]
TEXT = HEADER + "".join(ROWS)


@pytest.mark.parametrize(("encoding", "raw", "expected"), [
    ("cp1251", TEXT.encode("cp1251"), "cp1251"),
    ("utf-8-sig", TEXT.encode("utf-8-sig"), "utf-8-sig"),
    ("utf-16", TEXT.encode("utf-16"), "utf-16"),
    ("utf-16-le", TEXT.encode("utf-16-le"), "utf-16-le"),
    ("utf-8", TEXT.encode("utf-8"), "utf-8"),
])
def test_the_encoding_is_detected_and_the_text_read_back(tmp_path, encoding, raw, expected):
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(raw)
    assert detect_encoding(path) == expected
    stream, _ = open_text(path)
    with stream:
        assert stream.read() == TEXT


def test_a_file_that_is_no_text_names_the_line_and_a_hint(tmp_path):
    path = tmp_path / "mixed.csv"
    # UTF-8 lines, then one of bytes no code page of the list makes sense of.
    path.write_bytes(TEXT.encode() + b"granted,\x98\x98\x98\x00\x81\x8d\x8f\x90@x.org,email,marketing,,\n")
    with pytest.raises(UndecodableFile, match=r"^line 5 is not UTF-8.*CSV UTF-8.*iconv"):
        detect_encoding(path)


def test_a_russian_excel_export_is_imported(runner, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode("cp1251"))
    r = runner.invoke(["ledger", "import", str(path), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["imported"] == 3 and out["encoding"] == "cp1251"
    r = runner.invoke(["ledger", "history", "клиент1@пример.рф", "--json"])
    assert "Согласие на рассылку v1" in r.output


def test_an_undecodable_file_is_one_line_exit_2(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(HEADER.encode() + b"granted,\x98\x98\x98\x00\x81\x8d@x.org,email,marketing,,\n")
    r = runner.invoke(["ledger", "import", str(path)])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"auditor: {path}: line 2 is not UTF-8 and the file's encoding cannot be told; save it as "
        "\"CSV UTF-8\" (Excel: Save As > CSV UTF-8) or convert it, e.g. iconv -f cp1251 -t utf-8"]


def test_import_errors_are_listed_in_line_order(runner, tmp_path):
    # Rows 3 and 7 are refused when read (a bad flag), rows 2, 5 and 8 when their batch is appended.
    path = tmp_path / "mixed.csv"
    path.write_text(
        "type,subject,channel,purpose,separate_document\n"
        "granted,not-an-address,email,marketing,\n"
        "granted,b@example.org,email,marketing,maybe\n"
        "granted,c@example.org,email,marketing,\n"
        "granted,nobody,email,marketing,\n"
        "granted,e@example.org,email,marketing,\n"
        "granted,f@example.org,email,marketing,perhaps\n"
        "granted,also-not-one,email,marketing,\n", encoding="utf-8")
    r = runner.invoke(["ledger", "import", str(path), "--batch-size", "2", "--json"])
    assert r.exit_code == 1
    out = json.loads(r.output)
    assert [e["line"] for e in out["errors"]] == [2, 3, 5, 7, 8]
    r = runner.invoke(["ledger", "import", str(path), "--batch-size", "2"])
    listed = [int(line.split(":")[1]) for line in r.output.splitlines() if line.startswith("mixed.csv:")]
    assert listed == [2, 3, 5, 7, 8]
