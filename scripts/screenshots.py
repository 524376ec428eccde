"""Screenshots of Auditor's own pages for docs/integrations.md and docs/delivery.md.

    .venv/bin/python scripts/screenshots.py [--out docs/img]

Builds a throw-away instance (SQLite in a temporary folder) with demo data, starts
``auditor serve`` on a free loopback port, adds an integration through the admin page, feeds
real-shaped webhook batches through the real endpoints (a Mailchimp form-encoded unsubscribe,
UniOne batches whose ``auth`` is computed with the integration's API key), and drives Debian's
Chromium (``/usr/bin/chromium``, never a downloaded browser) through Playwright to save one PNG
per step. Every page must show its expected element, or the script fails (exit 1).
The temporary instance, its tokens and keys are deleted at the end.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1200, "height": 800}
PUBLIC_URL = "https://auditor.example.com"
ADMIN = "admin@auditor.example"
PASSWORD = "demo-" + secrets.token_urlsafe(12)
UNIONE_KEY = secrets.token_hex(20)
PERSON = "boris.ivanov@example.org"
MAX_BYTES = 200 * 1024


@dataclass
class Shot:
    """One page to capture: its file, path, the element it must show, and the UI language."""

    name: str
    path: str
    expect: str
    locale: str = "en-GB"
    scroll_to: str | None = None  # an element to bring to the top of the viewport
    full_page: bool = False


@dataclass
class Demo:
    """The instance folder, database URL and what was seeded into it."""

    folder: Path
    db_url: str
    campaign_id: int = 0
    unione_path: str = ""
    people: list[str] = field(default_factory=list)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(demo: Demo) -> dict[str, str]:
    return {"AUDITOR_INSTANCE_PATH": str(demo.folder), "AUDITOR_DATABASE_URL": demo.db_url,
            "AUDITOR_PUBLIC_URL": PUBLIC_URL, "AUDITOR_RATELIMIT_ENABLED": "false"}


def seed(folder: Path) -> Demo:
    """Migrate a fresh SQLite instance and store an admin, consents, an integration, a campaign."""
    from auditor import create_app
    from auditor.accounts.services import create_user
    from auditor.campaigns.models import Campaign
    from auditor.db import transaction
    from auditor.integrations import services as integrations
    from auditor.ledger.services import get_ledger
    from auditor.migrations import upgrade
    from consent_ledger import EventIn, Evidence

    demo = Demo(folder, f"sqlite:///{folder / 'auditor.db'}")
    app = create_app({"instance_path": str(folder), "database_url": demo.db_url, "public_url": PUBLIC_URL})
    upgrade(app.extensions["auditor"].engine)
    sessions = app.extensions["auditor"].sessions
    demo.people = [PERSON] + [f"customer{i:02d}@example.org" for i in range(1, 40)]
    with transaction(sessions) as s:
        admin = create_user(s, ADMIN, "admin", PASSWORD)
        _row, token = integrations.create_integration(
            s, name="unione-transactional", provider="unisender", actor=f"user:{ADMIN}",
            controller="OOO Shop", secret=UNIONE_KEY)
        demo.unione_path = f"/hooks/unisender/{token}"
        campaign = Campaign(
            name="December newsletter", channel="email", purpose="marketing",
            document={"name": "December newsletter", "channel": "email", "purpose": "marketing",
                      "jurisdictions": ["RU"], "sender": {"from": "Shop <news@shop.example>", "domain": "shop.example"},
                      "message": {"subject": "December offers", "text": "Реклама. OOO Shop. December offers."}},
            content_sha256="5e" * 32, status="approved", findings=[], recipient_count=len(demo.people),
            allowed_count=len(demo.people), suppressed_count=0, reasons={}, warnings={},
            submitter_id=admin.id, submitted_by=f"user:{ADMIN}")
        s.add(campaign)
        s.flush()
        demo.campaign_id = campaign.id
    signed_up = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="seconds")
    ev = Evidence(source_url="https://shop.example/signup", ip="198.51.100.7", user_agent="Mozilla/5.0",
                  notice_version="2026-09", notice_sha256="9f" * 32, separate_document=True,
                  pre_ticked=False, bundled=False)
    get_ledger(app).append(
        [EventIn(type=t, subject=p, channel="email", purpose="marketing", jurisdiction="RU", legal_basis="consent",
                 method="double-opt-in-form", evidence=ev, claimed_at=signed_up)
         for p in demo.people for t in ("granted", "confirmed")], actor="key:1:crm")
    app.extensions["auditor"].engine.dispose()
    return demo


@contextmanager
def server(demo: Demo) -> Iterator[str]:
    """``auditor serve`` on a free loopback port; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(demo.folder / "server.log", "ab")  # noqa: SIM115 - the child writes it
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "serve", "--port", str(port), "--threads", "4"],
                            cwd=ROOT, env={**os.environ, **_env(demo)}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"auditor serve exited with {proc.returncode}; see {demo.folder / 'server.log'}")
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (OSError, http.client.HTTPException):  # not listening yet (even a TCP self-connect)
                if time.monotonic() > deadline:
                    raise RuntimeError("auditor serve is not ready after 60 s") from None
                time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()


def post(base: str, path: str, body: bytes, content_type: str) -> dict[str, Any]:
    """POST a webhook body; its JSON answer (raises on a non-2xx)."""
    req = urllib.request.Request(base + path, data=body, method="POST", headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def mailchimp_unsubscribe(email: str, when: datetime) -> bytes:
    """A Mailchimp list webhook ``unsubscribe``, form-encoded as Mailchimp posts it."""
    return urllib.parse.urlencode({
        "type": "unsubscribe", "fired_at": when.strftime("%Y-%m-%d %H:%M:%S"),
        "data[action]": "unsub", "data[reason]": "manual", "data[id]": "8a25ff1d98", "data[list_id]": "a6b5da1054",
        "data[email]": email, "data[email_type]": "html", "data[merges][EMAIL]": email,
        "data[merges][FNAME]": "Boris", "data[merges][LNAME]": "Ivanov", "data[ip_opt]": "10.20.10.30",
        "data[campaign_id]": "cb398d21d2"}).encode()


def unione_batches(demo: Demo, days: int = 7) -> list[bytes]:
    """A week of UniOne status webhooks (one batch a day), ``auth`` computed with the API key."""
    from checks.providers.unisender import sign

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    out = []
    for d in range(days, 0, -1):
        day = now - timedelta(days=d)
        events = []
        for i, email in enumerate(demo.people[1:]):
            at = day + timedelta(minutes=i)
            statuses = ["sent"]
            if (i + d) % 29 == 3:
                statuses.append("soft_bounced")
            elif d == 2 and i == 5:
                statuses.append("hard_bounced")
            else:
                statuses.append("delivered")
                if (i * 7 + d) % 3 == 0:
                    statuses.append("opened")
                if (i * 5 + d) % 7 == 0:
                    statuses.append("clicked")
            for k, status in enumerate(statuses):
                data = {"job_id": f"1a3Q2V-{d:02d}{i:03d}", "email": email, "status": status}
                if d == 1:  # the demo campaign is the last day's send; the days before were other sends
                    data["metadata"] = {"auditor_campaign": str(demo.campaign_id)}
                events.append({"event_name": "transactional_email_status", "event_data": {
                    **data,
                    "event_time": (at + timedelta(seconds=20 * k)).strftime("%Y-%m-%d %H:%M:%S")}})
        out.append(sign(UNIONE_KEY, {"auth": "", "events_by_user": [
            {"user_id": 456, "project_id": "6432890213745872", "project_name": "Shop", "events": events}]}))
    return out


def shrink(png: bytes) -> bytes:
    """The PNG quantised to a palette when it is over 200 KB (Pillow); unchanged otherwise."""
    if len(png) <= MAX_BYTES:
        return png
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (256, 128, 64):
        buf = io.BytesIO()
        img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(buf, "PNG", optimize=True)
        if buf.tell() <= MAX_BYTES:
            break
    return buf.getvalue()


def _login(browser: Any, base: str, locale: str) -> Any:
    ctx = browser.new_context(viewport=VIEWPORT, locale=locale, reduced_motion="reduce")  # no smooth scrolling
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("form.card button")
    page.wait_for_url(base + "/")
    return page


def _save(page: Any, out: Path | None, name: str, shots: dict[str, str], text: str, full_page: bool = False) -> None:
    shots[name] = text
    if out is not None:
        (out / f"{name}.png").write_bytes(shrink(page.screenshot(full_page=full_page)))


def _visit(page: Any, base: str, shot: Shot, out: Path | None, shots: dict[str, str]) -> None:
    page.goto(base + shot.path)
    el = page.wait_for_selector(shot.expect, timeout=15_000)
    if shot.scroll_to:
        page.locator(shot.scroll_to).first.evaluate("e => { e.scrollIntoView(); window.scrollBy(0, -16); }")
    elif el is not None and not shot.full_page:
        el.scroll_into_view_if_needed()
    _save(page, out, shot.name, shots, (el.text_content() or "") if el is not None else "", shot.full_page)


def capture(out: Path | None, chromium: str = CHROMIUM) -> dict[str, str]:
    """Build the demo, walk the pages, save PNGs into ``out`` (None: check only).

    Returns each shot's name -> the text of the element it had to show (the URL, for the page
    that shows it once). Raises when a page lacks its element or a webhook is refused.
    """
    from playwright.sync_api import sync_playwright

    if not Path(chromium).exists():
        raise RuntimeError(f"{chromium} is missing: apt-get install -y chromium")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    shots: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="auditor-screenshots-") as tmp:
        demo = seed(Path(tmp))
        with server(demo) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
            try:
                page = _login(browser, base, "en-GB")
                # 1. the list and the add form
                _visit(page, base, Shot("integrations-add", "/admin/integrations", "form.card #provider"), out, shots)
                # 2. add one: its webhook URL, shown once
                page.fill("#name", "mailchimp-news")
                page.select_option("#provider", "mailchimp")
                page.fill("#controller", "OOO Shop")
                page.click("form.card button.btn-primary")
                url = page.wait_for_selector("[data-testid=webhook-url]").get_attribute("value") or ""
                if not url.startswith(PUBLIC_URL + "/hooks/mailchimp/"):
                    raise RuntimeError(f"unexpected webhook URL {url!r}")
                page.evaluate("window.scrollTo(0, 0)")
                _save(page, out, "integrations-url-once", shots, url)
                # 3. the provider posts: Mailchimp validates the URL with a GET, then an unsubscribe
                path = url.removeprefix(PUBLIC_URL)
                with urllib.request.urlopen(base + path, timeout=30) as r:
                    if r.status != 200:
                        raise RuntimeError(f"Mailchimp's validation GET answered {r.status}")
                unsubscribed = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
                answer = post(base, path, mailchimp_unsubscribe(PERSON, unsubscribed), "application/x-www-form-urlencoded")
                if answer.get("events") != 1:
                    raise RuntimeError(f"the Mailchimp unsubscribe was not taken: {answer}")
                for body in unione_batches(demo):
                    post(base, demo.unione_path, body, "application/json")
                # 4. events arrived: inbox counts and recent requests
                _visit(page, base, Shot("integrations-events", "/admin/integrations",
                                        "table.small tbody:has(tr:nth-child(8))", full_page=True), out, shots)
                # 5. the person page: the withdrawal's source
                q = urllib.parse.quote(PERSON)
                _visit(page, base, Shot("person-withdrawal-source", f"/ledger?q={q}", ".withdrawal-source"), out, shots)
                # 6. the campaign page's audience export
                _visit(page, base, Shot("campaign-audience-export", f"/campaigns/{demo.campaign_id}",
                                        ".audience-export", full_page=True), out, shots)
                # 7. delivery KPIs per integration
                _visit(page, base, Shot("delivery", "/delivery", "section.card svg circle", full_page=True), out, shots)
                page.context.close()
                # 8. the person page in the Russian UI
                ru = _login(browser, base, "ru-RU")
                _visit(ru, base, Shot("person-withdrawal-source-ru", f"/ledger?q={q}",
                                      ".withdrawal-source:has-text('Источник')", locale="ru-RU"), out, shots)
                ru.context.close()
            finally:
                browser.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    """Command line: write the PNGs, print what was saved."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder of the PNGs (default docs/img)")
    ap.add_argument("--chromium", default=CHROMIUM, help="the Chromium binary (default /usr/bin/chromium)")
    args = ap.parse_args(argv)
    try:
        shots = capture(args.out, args.chromium)
    except Exception as exc:  # noqa: BLE001 - one line for the operator, exit 1
        print(f"screenshots: {exc}", file=sys.stderr)
        return 1
    for name in shots:
        f = args.out / f"{name}.png"
        print(f"{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}  {f.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
