"""The review queue and campaign page: findings by pack with citations, safe preview, decisions."""

from __future__ import annotations

import html
import re

import pytest

from auditor.ui.preview import sanitise_html


def test_sender_cannot_reach_review_pages(as_role, make_campaign):
    cid = make_campaign()
    c = as_role("sender")
    assert c.get("/campaigns").status_code == 403
    assert c.get(f"/campaigns/{cid}").status_code == 403
    assert c.post(f"/campaigns/{cid}/review", data={"decision": "approve"}).status_code == 403


def test_queue_counts_and_filters_by_status(as_role, make_campaign):
    make_campaign("A")
    make_campaign("B", status="blocked")
    page = as_role("legal").get("/campaigns?status=needs_review").get_data(as_text=True)
    assert ">A</a>" in page and ">B</a>" not in page
    assert as_role("legal").get("/campaigns?status=nonsense").status_code == 404
    assert ">B</a>" in as_role("security").get("/campaigns?status=blocked").get_data(as_text=True)


def test_campaign_page_groups_findings_with_catalogue_citations(as_role, make_campaign):
    cid = make_campaign()
    page = as_role("legal").get(f"/campaigns/{cid}").get_data(as_text=True)
    assert "DMARC policy is p=none (monitoring only)" in page
    assert "RFC 7489 §6.3" in page and "38-FZ art. 18.1" in page
    assert 'data-pack="dns"' in page and 'data-pack="RU"' in page and "Russia: 38-FZ" in page
    assert "No consent for this channel and purpose" in page  # coverage reason, titled from the catalogue
    ru = as_role("legal").get(f"/campaigns/{cid}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Политика DMARC p=none (только мониторинг)" in ru


def test_preview_is_sandboxed_and_loads_nothing_remote(as_role, make_campaign):
    cid = make_campaign()
    page = as_role("legal").get(f"/campaigns/{cid}").get_data(as_text=True)
    frame = re.search(r'<iframe[^>]*>', page).group(0)
    assert 'sandbox=""' in frame
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert "Spring sale" in srcdoc
    assert "tracker.example" not in srcdoc and "<script" not in srcdoc
    assert "default-src 'none'" in srcdoc


def test_sanitiser_strips_remote_urls_and_handlers():
    out, blocked = sanitise_html('<div style="background:url(http://x/y.png)" onclick="z()">'
                                 '<img srcset="http://x/1.png 1x" src="data:image/png;base64,AA">'
                                 '<style>@import "http://x/a.css"; p{background:url(//x/b.png)}</style>'
                                 '<iframe src="http://x"></iframe><p>ok</p></div>')
    assert "http://" not in out and "//x" not in out and "onclick" not in out and "<iframe" not in out
    assert 'src="data:image/png;base64,AA"' in out and "<p>ok</p>" in out
    assert blocked == 5


@pytest.fixture
def reviewed(make_campaign) -> int:
    """A campaign waiting for review (decisions read the policy through checks.rules)."""
    pytest.importorskip("checks.rules")
    return make_campaign()


def test_legal_approves_and_the_audit_log_records_it(as_role, reviewed):
    c = as_role("legal")
    r = c.post(f"/campaigns/{reviewed}/review", data={"decision": "approve", "comment": ""})
    assert r.status_code == 303
    page = c.get(f"/campaigns/{reviewed}").get_data(as_text=True)
    assert "legal@auditor.test" in page
    assert "campaign.review.approve" in c.get("/audit-log").get_data(as_text=True)


def test_rejection_needs_a_comment(as_role, reviewed):
    c = as_role("security")
    r = c.post(f"/campaigns/{reviewed}/review", data={"decision": "reject", "comment": "  "},
               follow_redirects=True)
    assert "needs a comment" in r.get_data(as_text=True)
    r = c.post(f"/campaigns/{reviewed}/review", data={"decision": "reject", "comment": "Add the erid"},
               follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Add the erid" in page and "rejected" in page


def test_submitter_cannot_review_their_own_campaign(as_role, make_campaign):
    pytest.importorskip("checks.rules")
    cid = make_campaign(submitter="legal")
    c = as_role("legal")
    page = c.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert "Four eyes" in page and 'value="approve"' not in page
    r = c.post(f"/campaigns/{cid}/review", data={"decision": "approve"}, follow_redirects=True)
    assert "four eyes" in r.get_data(as_text=True)


def test_campaign_page_links_its_pdf_report(as_role, make_campaign):
    cid = make_campaign()
    page = as_role("legal").get(f"/campaigns/{cid}").get_data(as_text=True)
    assert f'href="/reports/campaign/{cid}.pdf?lang=en"' in page
