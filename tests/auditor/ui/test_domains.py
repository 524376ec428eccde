"""Domain pages: monitor, audit now, history of changes, blocklists, preflight; who may do what."""

from __future__ import annotations

import textwrap

import pytest

DOMAIN = "shop.example"
IP = "192.0.2.10"


def zone_text(*, dmarc: str = "reject", listed: bool = False) -> str:
    """A sender's zone and an RFC 5782 test list ``bl.test`` served alongside."""
    lines = [f"$ORIGIN {DOMAIN}.", f"@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 86400 300",
             f"@ IN NS ns.{DOMAIN}.", "ns IN A 192.0.2.53", f"@ IN MX 10 mail.{DOMAIN}.", f"mail IN A {IP}",
             f'@ IN TXT "v=spf1 ip4:{IP} -all"', f'_dmarc IN TXT "v=DMARC1; p={dmarc}; rua=mailto:d@{DOMAIN}"',
             f"10.2.0.192.in-addr.arpa. IN PTR mail.{DOMAIN}.", "2.0.0.127.bl.test. IN A 127.0.0.2"]
    if listed:
        lines += ["10.2.0.192.bl.test. IN A 127.0.0.2", '10.2.0.192.bl.test. IN TXT "seen spamming"']
    return textwrap.dedent("\n".join(lines)) + "\n"


@pytest.fixture
def dns(dns_server):
    """The loopback DNS server publishing the sender's zone."""
    return dns_server(zone_text(), DOMAIN)


@pytest.fixture
def app(make_app, dns):
    """The app resolving through the loopback zone, with a local test blocklist."""
    return make_app(dns_nameservers=dns.nameserver, dns_timeout=1.0, blocklists="ip:bl.test=block")


def test_security_monitors_a_domain_audits_it_and_sees_the_change(as_role, dns):
    c = as_role("security")
    r = c.post("/domains", data={"value": DOMAIN.upper(), "selectors": "", "ips": IP})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/domains/{DOMAIN}")
    assert DOMAIN in c.get("/domains").get_data(as_text=True)
    assert c.post(f"/domains/{DOMAIN}/run").status_code == 303
    page = c.get(f"/domains/{DOMAIN}").get_data(as_text=True)
    assert "No MTA-STS record" in page and "RFC 8461" in page
    assert "bl.test" in page and "first audit (baseline)" in page
    dns.set_zone(zone_text(dmarc="none", listed=True), DOMAIN)
    c.post(f"/domains/{DOMAIN}/run")
    page = c.get(f"/domains/{DOMAIN}").get_data(as_text=True)
    assert "DMARC policy is p=none" in page
    assert "listed" in page and "seen spamming" in page
    assert page.count("change-list") == 1
    log = c.get("/audit-log").get_data(as_text=True)
    assert "monitor.add" in log and "monitor.run" in log


def test_dashboard_lists_domains_with_blocking_findings(as_role, dns):
    c = as_role("security")
    dns.set_zone(zone_text(listed=True), DOMAIN)
    c.post("/domains", data={"value": DOMAIN, "ips": IP})
    c.post(f"/domains/{DOMAIN}/run")
    page = c.get("/").get_data(as_text=True)
    assert f'href="/domains/{DOMAIN}"' in page


def test_remove_a_selector_then_the_domain(as_role):
    c = as_role("admin")
    c.post("/domains", data={"value": DOMAIN, "selectors": "s1 s2"})
    c.post(f"/domains/{DOMAIN}/remove", data={"selector": "s2"})
    page = c.get(f"/domains/{DOMAIN}").get_data(as_text=True)
    assert "selector s1" in page and "selector s2" not in page
    c.post(f"/domains/{DOMAIN}/remove")
    assert "Nothing is monitored yet" in c.get("/domains").get_data(as_text=True)


def test_legal_reads_but_cannot_change_and_senders_see_nothing(as_role):
    admin = as_role("admin")
    admin.post("/domains", data={"value": DOMAIN})
    legal = as_role("legal")
    page = legal.get(f"/domains/{DOMAIN}").get_data(as_text=True)
    assert "Run an audit now" not in page and "Stop monitoring" not in page
    assert legal.post("/domains", data={"value": "other.example"}).status_code == 403
    assert legal.post(f"/domains/{DOMAIN}/run").status_code == 403
    assert legal.post(f"/domains/{DOMAIN}/remove").status_code == 403
    sender = as_role("sender")
    assert sender.get("/domains").status_code == 403
    assert sender.get(f"/domains/{DOMAIN}").status_code == 403


def test_bad_domain_input(as_role):
    c = as_role("security")
    r = c.post("/domains", data={"value": "not a domain"}, follow_redirects=True)
    assert "not a domain name" in r.get_data(as_text=True)
    assert c.get("/domains/bad_name").status_code == 404
    assert "never audited" in c.get("/domains/unknown.example").get_data(as_text=True)


def test_preflight_audits_a_pasted_zone(as_role):
    c = as_role("legal")
    assert c.get("/domains/preflight").status_code == 200
    zone = zone_text().replace("_dmarc IN TXT", "; no dmarc yet\n;_dmarc IN TXT")
    page = c.post("/domains/preflight", data={"zone": zone, "origin": DOMAIN, "ips": IP}).get_data(as_text=True)
    assert "No DMARC record" in page and "RFC 7489" in page
    bad = c.post("/domains/preflight", data={"zone": "@ IN BOGUS x", "origin": DOMAIN})
    assert bad.status_code == 422


@pytest.mark.parametrize(("lang", "badge", "why"), [
    ("en", "not covered by this list", "an IPv4-only list: it cannot answer for an IPv6 address"),
    ("ru", "не охватывается списком", "список только для IPv4: IPv6-адреса он не проверяет")])
def test_an_ipv6_address_on_an_ipv4_only_list_is_not_covered_not_an_error(as_role, lang, badge, why):
    # bl.test publishes only the IPv4 test point: it cannot answer for 2001:db8::10
    c = as_role("security")
    c.post("/domains", data={"value": DOMAIN, "ips": f"{IP} 2001:db8::10"})
    assert c.post(f"/domains/{DOMAIN}/run").status_code == 303
    page = c.get(f"/domains/{DOMAIN}", headers={"Accept-Language": lang}).get_data(as_text=True)
    row = page.split("2001:<wbr>db8:<wbr>:<wbr>10</td>", 1)[1].split("</tr>", 1)[0]  # breaks only at colons
    assert 'class="badge text-bg-light border bl-uncovered"' in row
    assert badge in row and why in row
    assert "text-bg-secondary" not in row and ">error<" not in row and "ошибка" not in row
    v4 = page.split(f"{IP}</td>", 1)[1].split("</tr>", 1)[0]
    assert "bl-uncovered" not in v4  # the IPv4 address is checked as before


@pytest.mark.parametrize(("lang", "badge", "why"), [
    ("en", "not covered by this list", "an IPv4-only list: it cannot answer for an IPv6 address"),
    ("ru", "не охватывается списком", "список только для IPv4: IPv6-адреса он не проверяет")])
def test_the_pdf_blocklist_table_says_not_covered_in_both_languages(lang, badge, why):
    from reports.data import BlocklistRow
    from reports.render import _context, _env

    rows = [BlocklistRow("bl.test", "ip", "2001:db8::10", "uncovered", "does not cover IPv6: ..."),
            BlocklistRow("bl.test", "ip", IP, "error", "timeout")]
    html = _env().from_string('{% from "_macros.html" import blocklist_table with context %}'
                              "{{ blocklist_table(rows) }}").render(**_context(lang), rows=rows)
    uncovered, error = html.split("<tbody>", 1)[1].split("</tr>")[:2]
    assert badge in uncovered and why in uncovered and "sev-warn" not in uncovered
    assert "does not cover IPv6" not in uncovered  # the English code gives way to the label
    assert "sev-warn" in error and ("error" if lang == "en" else "ошибка") in error
