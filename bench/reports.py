"""Report rendering speed: a campaign report with 50 findings, a subject report with 20 events.

Each figure sits beside a baseline measured in the same run: weasyprint laying out a plain
one-page HTML document (what any PDF costs here before our templates add anything).
Usage: python bench/reports.py [--quick]   (prints one JSON document, INTERFACES.md format)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/dns.py would shadow dnspython.
sys.path[:] = [str(Path(__file__).resolve().parents[1])] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from checks.catalogue import RULES  # noqa: E402
from consent_ledger import EventIn, Evidence, Ledger  # noqa: E402
from consent_ledger.schema import create_schema  # noqa: E402
from reports import campaign_pdf, subject_pdf  # noqa: E402
from reports.data import (  # noqa: E402
    BlocklistRow,
    CampaignReportData,
    EventRow,
    FindingRow,
    MessageSummary,
    PostureData,
    ReportMeta,
    ReviewRow,
    StateRow,
    SubjectReportData,
    TokenRow,
)

PLAIN = ("<!doctype html><html><head><meta charset='utf-8'><style>html{font-family:'DejaVu Sans'}</style>"
         "</head><body><h1>Отчёт / Report</h1>" + "<p>Lorem ipsum dolor sit amet, съешь ещё этих мягких "
         "французских булок.</p>" * 20 + "</body></html>")


def _median(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``fn`` after one warm-up call."""
    fn()  # warm-up: font discovery and template compilation happen once per process
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _campaign(n: int) -> CampaignReportData:
    now = datetime.now(UTC)
    ids = list(RULES)
    findings = [FindingRow(rule_id=ids[i % len(ids)], severity=RULES[ids[i % len(ids)]].severity,
                           detail=f"check {i}: what was found and where, as the check wrote it",
                           subject="message" if i % 2 else f"recipient:{i:064x}",
                           evidence={"record": "v=spf1 include:_spf.example.net ~all", "lookups": i})
                for i in range(n)]
    posture = PostureData(target="shop.example", checked_at=now, findings=findings[:8],
                          records={"spf": "v=spf1 ip4:192.0.2.10 -all", "dmarc": "v=DMARC1; p=reject"},
                          blocklists=[BlocklistRow("bl.test", "ip", "192.0.2.10", "clean")])
    return CampaignReportData(
        meta=ReportMeta(generated_at=now, ledger_size=1_000_000), id=7, name="Ноябрьская акция", status="approved",
        channel="email", purpose="marketing", jurisdictions=["RU", "EU"], submitted_by="sender@example.org",
        created_at=now, decided_at=now, content_sha256="ab" * 32,
        message=MessageSummary(from_="Shop <news@shop.example>", subject="Скидки", sender_domain="shop.example"),
        findings=findings, reviews=[ReviewRow("legal@example.org", "legal", "approve", "ok", now)],
        recipients=100_000, allowed=95_000, suppressed=5_000,
        reasons={"CONSENT-NONE": 3000, "CONSENT-WITHDRAWN": 2000}, warnings={"CONSENT-UNCONFIRMED": 100},
        posture=posture, tokens=[TokenRow("cd" * 16, "ab" * 32, now, now + timedelta(hours=72))])


def _subject(n: int, folder: Path) -> SubjectReportData:
    """Real events and real proofs from a ledger on SQLite (20 events among 2,000)."""
    engine = create_engine(f"sqlite:///{folder / 'ledger.db'}")
    create_schema(engine)
    ledger = Ledger(engine, ledger_key=b"k" * 32, signing_key=Ed25519PrivateKey.generate())
    ev = Evidence(source_url="https://shop.example/signup", ip="198.51.100.7", user_agent="Mozilla/5.0",
                  notice_version="2025-09", notice_sha256="a" * 64, separate_document=True, pre_ticked=False,
                  bundled=False)
    batch = []
    for i in range(2000):
        who = "ivan@example.org" if i % 100 < n // 20 else f"p{i}@example.org"
        batch.append(EventIn(type=("granted", "confirmed", "withdrawn")[i % 3], subject=who, channel="email",
                             purpose="marketing", method="form", evidence=ev))
    ledger.append(batch, actor="bench")
    pseudonym = ledger.pseudonym_of("ivan@example.org")
    history = ledger.history(pseudonym)[:n]
    cp = ledger.checkpoint()
    events = []
    for e in history:
        proof = ledger.inclusion_proof(e["seq"], size=cp["size"])
        events.append(EventRow(seq=e["seq"], type=e["type"], channel=e["channel"], purpose=e["purpose"],
                               recorded_at=e["recorded_at"], claimed_at=e["claimed_at"], method=e["method"],
                               legal_basis=None, jurisdiction=None, evidence=e["evidence"],
                               leaf_hash=proof["leaf_hash"], proof=proof))
    states = [StateRow(s.channel, s.purpose, s.status, s.confirmed, s.last_seq, s.updated_at, s.expires_at,
                       s.evidence_complete) for s in ledger.states_of(pseudonym)]
    return SubjectReportData(meta=ReportMeta(datetime.now(UTC), ledger.size(), cp), subject="ivan@example.org",
                             pseudonym=pseudonym, states=states, events=events, checkpoint=cp,
                             public_key_pem=events[0].proof["public_key"])


def main() -> None:
    """Measure and print the JSON document."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a smoke check")
    args = parser.parse_args()
    runs = 2 if args.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        baseline, baseline_cpu = _median(lambda: HTML(string=PLAIN).write_pdf(), runs)
        campaign = _campaign(50)
        subject = _subject(20, Path(tmp))
        assert len(subject.events) == 20, len(subject.events)
        results = []
        for metric, fn, target in (
            ("campaign_report_50_findings", lambda: campaign_pdf(campaign, "ru"), 2.0),
            ("subject_report_20_events", lambda: subject_pdf(subject, "ru"), 1.0),
        ):
            value, cpu = _median(fn, runs)
            results.append({"metric": metric, "value": round(value, 3), "unit": "s",
                            "baseline": {"what": "weasyprint, plain one-page HTML", "value": round(baseline, 3),
                                         "cpu_s": round(baseline_cpu, 3)},
                            "ratio": round(value / baseline, 2), "target": f"<= {target} s",
                            "met": value <= target, "cpu_s": round(cpu, 3), "pages": _pages(fn())})
    print(json.dumps({"bench": "reports", "quick": args.quick,
                      "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "load_average_1m": round(os.getloadavg()[0], 2)},
                      "results": results}, indent=2))


def _pages(pdf: bytes) -> int:
    """Page count by poppler's pdfinfo (-1 when poppler-utils is not installed)."""
    import shutil
    import subprocess

    if shutil.which("pdfinfo") is None:
        return -1
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True).stdout
    return next((int(line.split()[-1]) for line in out.splitlines() if line.startswith("Pages:")), -1)


if __name__ == "__main__":
    main()
