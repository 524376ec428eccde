"""The subject report: consent history with evidence, proofs embedded and verifiable offline."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import Runner


def _events(loop, subject: str) -> list[dict]:
    loop.consent(subject, "granted")
    loop.consent(subject, "confirmed")
    loop.consent("someone.else@example.org", "granted")  # another person: must not appear
    loop.consent(subject, "withdrawn", method="one-click", claimed_at="2026-11-10T08:00:00+00:00")
    r = loop.client.get(f"/api/v1/consents/{subject}", headers=loop.h("sender"))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json["history"]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_subject_report_lists_every_event_with_its_proof_and_the_proofs_verify_offline(loop, tools, tmp_path, lang):
    subject = "Ivan.Petrov@Example.org"
    history = _events(loop, subject)
    seqs = [e["seq"] for e in history]
    assert seqs == [1, 2, 4]
    out = tmp_path / "subject.pdf"
    res = Runner(loop.app).invoke(["report", "subject", subject, "--out", str(out), "--lang", lang, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["bytes"] == out.stat().st_size

    text = " ".join(tools.text(out).split())
    pseudonym = history[0]["pseudonym"]
    assert pseudonym in text.replace("\n", "").replace(" ", "")
    heading = "Consent history" if lang == "en" else "История согласий"
    assert heading in text
    assert ("consent withdrawn" if lang == "en" else "согласие отозвано") in text
    assert "one-click" in text and "https://shop.example/signup" in text
    assert "someone.else" not in text
    assert ("Ledger size (events)" if lang == "en" else "Размер реестра (событий)") in text
    assert ("page 1 of" if lang == "en" else "стр. 1 из") in text

    files = tools.attachments(out, tmp_path / "files")
    assert sorted(files) == sorted([f"proof-seq-{s}.json" for s in seqs] + ["checkpoint.json", "public-key.pem"])
    for s in seqs:
        proof = json.loads(files[f"proof-seq-{s}.json"].read_text())
        assert proof["event"]["seq"] == s and proof["leaf_index"] == s - 1
        assert proof["tree_size"] == 4 and proof["checkpoint"]["size"] == 4
        assert proof["leaf_hash"] in text.replace("\n", "").replace(" ", "")
        done = tools.verify(files[f"proof-seq-{s}.json"], files["public-key.pem"], tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    fonts = subprocess.run(["pdffonts", str(out)], check=True, capture_output=True, text=True).stdout
    names = [line.split()[0] for line in fonts.splitlines()[2:]]
    assert names and all("DejaVu" in n for n in names), fonts  # no fallback font: every glyph is DejaVu's
    cp = json.loads(files["checkpoint.json"].read_text())
    assert cp["root"] in text.replace("\n", "").replace(" ", "")


def test_a_tampered_embedded_proof_fails_offline_verification(loop, tools, tmp_path):
    subject = "anna@example.org"
    _events(loop, subject)
    out = tmp_path / "s.pdf"
    assert Runner(loop.app).invoke(["report", "subject", subject, "--out", str(out)]).exit_code == 0
    files = tools.attachments(out, tmp_path / "files")
    doc = json.loads(files["proof-seq-1.json"].read_text())
    doc["event"]["type"] = "confirmed"  # claim a stronger consent than was recorded
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    done = tools.verify(forged, files["public-key.pem"], tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr


def test_subject_report_of_unknown_person_is_a_one_line_usage_error(loop, tmp_path):
    res = Runner(loop.app).invoke(["report", "subject", "nobody@example.org", "--out", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2
    assert "no event" in res.output
    assert not (tmp_path / "x.pdf").exists()


def test_contents_page_numbers_point_at_the_sections_and_footers_count_pages(loop, tools, tmp_path):
    import re

    from reports.i18n import labels

    _events(loop, "toc@example.org")
    out = tmp_path / "s.pdf"
    assert Runner(loop.app).invoke(["report", "subject", "toc@example.org", "--out", str(out)]).exit_code == 0
    pages = tools.page_texts(out)
    L = labels("en")
    toc = pages[1]
    assert toc.startswith(L["contents"])
    for key in ("current_consent", "consent_history", "proofs", "checkpoint", "verify_offline"):
        m = re.search(re.escape(L[key]) + r"[ .]*?(\d+)", toc)
        assert m, (key, toc)
        number = int(m.group(1))
        assert L[key] in pages[number - 1], (key, number)
    for i, text in enumerate(pages, start=1):
        assert f"page {i} of {len(pages)}" in text
