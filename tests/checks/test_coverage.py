"""Every RULES.md §1-2 (and §7 DNS) id is exercised by the tests of this folder (or the DMARC area's)."""

from __future__ import annotations

from pathlib import Path

from checks.catalogue import RULES


def test_every_dns_and_blocklist_id_is_asserted_in_a_test() -> None:
    here = Path(__file__).parent
    # DKIM-SELECTOR-LEARNED is raised where reports are stored, so its tests live with the DMARC area.
    files = [*here.glob("test_*.py"), *(here.parent / "auditor" / "dmarc").glob("test_*.py")]
    text = "\n".join(p.read_text(encoding="utf-8") for p in files if p.name != Path(__file__).name)
    wanted = [r.id for r in RULES.values() if r.section in ("dns", "blocklists")]
    assert len(wanted) == 48
    assert [rid for rid in wanted if f'"{rid}"' not in text] == []


def test_every_dns_and_blocklist_id_has_a_remedy_in_both_languages() -> None:
    wanted = [r for r in RULES.values() if r.section in ("dns", "blocklists")]
    missing = [r.id for r in wanted if not (r.fix("en") and r.fix("ru"))]
    assert missing == []
    assert all(r.fix("ru") != r.fix("en") for r in wanted)
