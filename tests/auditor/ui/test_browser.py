"""Walk the UI in Chromium against a real server, as each role; screenshots of each main page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.auditor.ui.browser import DESKTOP, PHONE, SCREENSHOTS, chromium, serve
from tests.auditor.ui.conftest import FINDINGS, HTML, ROLES, email_of
from tests.auditor.ui.test_domains import DOMAIN, IP, zone_text
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser
PERSON = "maria.ivanova@example.org"


@dataclass
class Site:
    """The running server and what was seeded into it."""

    url: str
    app: Any
    campaigns: dict[str, int]


def _seed(app: Any) -> dict[str, int]:
    from auditor.accounts.services import create_user, record
    from auditor.campaigns.models import Campaign
    from auditor.db import transaction
    from auditor.ledger.services import get_ledger
    from consent_ledger import EventIn, Evidence

    ids = {}
    with transaction(app.extensions["auditor"].sessions) as s:
        users = {role: create_user(s, email_of(role), role, ADMIN_PASSWORD) for role in ROLES}
        for name, status in (("Spring sale", "needs_review"), ("Winter clearance", "needs_review"),
                             ("Bad links", "blocked")):
            findings = FINDINGS if status != "blocked" else FINDINGS + [
                {"rule_id": "SPF-MISSING", "severity": "block", "title": "", "detail": "no v=spf1 record",
                 "citation": "", "subject": "domain:shop.example", "evidence": {"txt": []}}]
            doc = {"name": name, "channel": "email", "purpose": "marketing", "jurisdictions": ["RU", "EU"],
                   "sender": {"from": "Shop <news@shop.example>", "domain": "shop.example"},
                   "message": {"subject": f"{name} -20%", "html": HTML, "text": name}}
            c = Campaign(name=name, channel="email", purpose="marketing", document=doc, content_sha256="cd" * 32,
                         status=status, findings=findings, recipient_count=1200, allowed_count=1130,
                         suppressed_count=70, reasons={"CONSENT-NONE": 52, "CONSENT-WITHDRAWN": 18},
                         warnings={"CONSENT-UNCONFIRMED": 40}, submitter_id=users["sender"].id,
                         submitted_by=f"user:{users['sender'].email}")
            s.add(c)
            s.flush()
            ids[name] = c.id
            record(s, c.submitted_by, "campaign.submit", f"campaign:{c.id}", status=status,
                   findings=len(findings), allowed=1130, suppressed=70)
        record(s, f"user:{users['admin'].email}", "key.create", "key:1", name="crm",
               user=users["sender"].email, scopes="consent:write,campaign:submit,gate:check")
    ev = Evidence(source_url="https://shop.example/signup?utm=spring", ip="198.51.100.7",
                  user_agent="Mozilla/5.0 (X11; Linux x86_64)", notice_version="2026-03",
                  notice_sha256="9f" * 32, separate_document=True, pre_ticked=False, bundled=False)
    get_ledger(app).append([
        EventIn(type="granted", subject=PERSON, channel="email", purpose="marketing", evidence=ev),
        EventIn(type="confirmed", subject=PERSON, channel="email", purpose="marketing", evidence=ev),
        EventIn(type="granted", subject=PERSON, channel="email", purpose="news", evidence=ev),
        EventIn(type="withdrawn", subject=PERSON, channel="email", purpose="news", evidence=ev),
    ], actor="key:1:crm")
    return ids


@pytest.fixture
def site(make_app, dns_server) -> Iterator[Site]:
    """A seeded app with CSRF on, resolving through a loopback zone, served by waitress."""
    dns = dns_server(zone_text(dmarc="none"), DOMAIN)
    app = make_app(WTF_CSRF_ENABLED=True, dns_nameservers=dns.nameserver, dns_timeout=1.0,
                   blocklists="ip:bl.test=block")
    ids = _seed(app)
    from auditor.db import transaction
    from auditor.monitoring.services import add_asset, audit_and_record

    with transaction(app.extensions["auditor"].sessions) as s:
        asset_id = add_asset(s, "domain", DOMAIN, ips=[IP])[0].id
    audit_and_record(app, "domain", DOMAIN, ips=(IP,), source="test", asset_id=asset_id)
    with serve(app) as url:
        yield Site(url, app, ids)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for one test."""
    with chromium() as b:
        yield b


def open_as(browser: Any, site: Site, role: str, *, viewport: dict | None = None, locale: str = "en-GB"):
    """A page logged in through the form as ``role``."""
    ctx = browser.new_context(viewport=viewport or DESKTOP, locale=locale, accept_downloads=True)
    page = ctx.new_page()
    page.goto(site.url + "/login")
    page.fill("#email", email_of(role))
    page.fill("#password", ADMIN_PASSWORD)
    page.click("form.card button")
    page.wait_for_url(site.url + "/")
    return page


def test_reviewers_approve_one_campaign_and_reject_another(browser, site):
    from auditor.campaigns.models import Campaign

    spring, winter = site.campaigns["Spring sale"], site.campaigns["Winter clearance"]
    page = open_as(browser, site, "legal")
    page.click("ul.list-group a:has-text('Spring sale')")
    assert page.url.endswith(f"/campaigns/{spring}")
    page.fill("#approve-comment", "Consent evidence and footer checked.")
    page.click("button:has-text('Approve')")
    page.wait_for_selector(".alert-success")
    assert "Consent evidence and footer checked." in page.inner_text(".review")
    with site.app.extensions["auditor"].sessions() as s:
        assert s.get(Campaign, spring).status == "approved"  # default policy: one reviewer signs off
    assert page.locator("h1 + .badge").inner_text() == "approved"

    page = open_as(browser, site, "security")
    assert page.locator("ul.list-group a:has-text('Spring sale')").count() == 0
    page.click("ul.list-group a:has-text('Winter clearance')")
    page.click("button:has-text('Reject')")              # the comment is required: nothing is sent
    assert page.url.endswith(f"/campaigns/{winter}")
    assert page.locator(".review").count() == 0
    page.fill("#reject-comment", "Add the advertiser and erid to the footer (38-FZ art. 18.1).")
    page.click("button:has-text('Reject')")
    page.wait_for_selector(".alert-success")
    assert "erid" in page.inner_text(".review")
    with site.app.extensions["auditor"].sessions() as s:
        assert s.get(Campaign, winter).status == "rejected"


def test_legal_looks_up_a_person_and_downloads_the_proof(browser, site, tmp_path):
    from consent_ledger.proofs import verify_inclusion

    page = open_as(browser, site, "legal")
    page.click("nav >> text=Consent")
    page.fill("#q", PERSON.upper())
    page.click("button:has-text('Look up')")
    assert page.locator("li.event").count() == 4
    assert "withdrawn" in page.inner_text("table")
    with page.expect_download() as info:
        page.click("li.event >> nth=0 >> text=Inclusion proof")
    path = tmp_path / "proof.json"
    info.value.save_as(path)
    doc = json.loads(path.read_text())
    verify_inclusion(doc, site.app.extensions["auditor"].public_key_pem)
    assert doc["event"]["type"] == "withdrawn"
    assert PERSON not in path.read_text()
    assert page.locator("text=Erase this person").count() == 1  # the DPO (legal) answers erasure requests


def test_admin_erases_with_confirmation_and_reason(browser, site):
    page = open_as(browser, site, "admin")
    page.goto(f"{site.url}/ledger?q={PERSON}")
    page.fill("#reason", "DSAR 2026-114")
    page.click("button:has-text('Erase')")            # the confirmation box is required
    assert page.locator("li.event").count() == 4
    page.check("#confirm")
    page.click("button:has-text('Erase')")
    page.wait_for_selector(".alert-success")
    assert page.locator("li.event").count() == 5
    assert "erased" in page.inner_text("li.event >> nth=0")


def test_sender_cannot_reach_the_review_pages(browser, site):
    page = open_as(browser, site, "sender")
    assert page.locator("nav >> text=Campaigns").count() == 0
    for path in ("/campaigns?status=needs_review", f"/campaigns/{site.campaigns['Spring sale']}",
                 "/ledger?q=" + PERSON, "/audit-log", "/admin/users"):
        resp = page.goto(site.url + path)
        assert resp.status == 403, path
        assert "cannot open this page" in page.inner_text("main")


def test_security_reviewer_cannot_erase(browser, site):
    page = open_as(browser, site, "security")
    assert page.goto(f"{site.url}/ledger?q={PERSON}").status == 403
    page.goto(site.url + "/ledger/status")
    token = page.get_attribute("form:has(button:has-text('Verify now')) input[name=csrf_token]", "value")
    resp = page.request.post(site.url + "/ledger/erase",
                             form={"csrf_token": token, "q": PERSON, "reason": "x", "confirm": "yes"})
    assert resp.status == 403
    from auditor.ledger.services import get_ledger

    led = get_ledger(site.app)
    assert led.identity(led.pseudonym_of(PERSON, "email")) == PERSON


def test_security_adds_a_monitored_domain_and_audits_it(browser, site):
    page = open_as(browser, site, "security")
    page.click("nav >> text=Domains")
    page.fill("#value", "news.shop.example")
    page.fill("#ips", IP)
    page.click("button:has-text('Add')")
    page.wait_for_url(site.url + "/domains/news.shop.example")
    assert "IP " + IP in page.inner_text("main")
    page.click("button:has-text('Run an audit now')")
    page.wait_for_selector(".alert-success")
    assert page.locator(".finding").count() > 0
    assert "first audit (baseline)" in page.inner_text("main")
    page.goto(site.url + "/domains")
    assert "news.shop.example" in page.inner_text("table")
    legal = open_as(browser, site, "legal")
    legal.goto(site.url + "/domains/news.shop.example")
    assert legal.locator("text=Run an audit now").count() == 0


def _no_horizontal_overflow(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


MAIN_PAGES = [("dashboard", "/"), ("queue", "/campaigns?status=needs_review"), ("campaign", "/campaigns/{c}"),
              ("ledger", "/ledger?q=" + PERSON), ("ledger-status", "/ledger/status"), ("audit-log", "/audit-log"),
              ("users", "/admin/users"), ("keys", "/admin/keys"), ("domains", "/domains"),
              ("domain", "/domains/" + DOMAIN), ("preflight", "/domains/preflight")]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots_of_each_main_page(browser, site, size):
    viewport = DESKTOP if size == "desktop" else PHONE
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_as(browser, site, "admin", viewport=viewport)
    urls = site.app.url_map.bind("localhost")
    taken = []
    for name, path in MAIN_PAGES:
        resp = page.goto(site.url + path.format(c=site.campaigns["Spring sale"]))
        assert resp.status == 200, path
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True)
        assert _no_horizontal_overflow(page), f"{path} overflows at {viewport}"
        if name == "campaign":  # full-page captures leave sandboxed (out-of-process) frames blank
            page.locator("iframe.preview-frame").screenshot(path=str(SCREENSHOTS / f"preview-{size}.png"))
        taken.append(name)
    ru = open_as(browser, site, "legal", viewport=viewport, locale="ru-RU")
    ru.goto(site.url + f"/campaigns/{site.campaigns['Bad links']}")
    assert "Замечания" in ru.inner_text("main")
    ru.screenshot(path=str(SCREENSHOTS / f"campaign-ru-{size}.png"), full_page=True)
    assert _no_horizontal_overflow(ru)
    login = browser.new_context(viewport=viewport).new_page()
    login.goto(site.url + "/login")
    login.screenshot(path=str(SCREENSHOTS / f"login-{size}.png"))
    assert len(taken) == len(MAIN_PAGES)
    assert urls.match("/domains/preflight")[0] == "ui.preflight"
