"""Body checks: size, text alternative, link text mismatch, shorteners, link domains on blocklists."""

from __future__ import annotations

from checks.blocklists import parse_blocklists
from checks.message.links import read_html
from tests.checks.message.conftest import DEFAULT_HTML, ids, make_raw


def test_html_over_102_kb_is_clipped(check):
    filler = "<p>" + "x" * 1000 + "</p>"
    big = "<p>Offers</p>" + filler * 110 + '<a href="https://shop.example/unsubscribe">Unsubscribe</a>'
    report = check(make_raw(html=big))
    found = next(f for f in report.findings if f.rule_id == "MSG-SIZE-CLIPPED")
    assert found.severity == "warn" and report.html_bytes > 102 * 1024
    assert found.evidence["unsubscribe_clipped"] is True


def test_html_under_102_kb_is_not_clipped(check):
    html = DEFAULT_HTML + "<p>" + "x" * 90_000 + "</p>"
    report = check(make_raw(html=html))
    assert "MSG-SIZE-CLIPPED" not in ids(report) and report.html_bytes < 102 * 1024


def test_html_without_text_alternative(check):
    report = check(make_raw(text=None))
    assert "MSG-NO-TEXT-PART" in ids(report) and not report.has_text_part
    assert "MSG-NO-TEXT-PART" not in ids(check(make_raw()))


def test_link_text_showing_another_domain(check):
    html = DEFAULT_HTML + '<p><a href="https://login.evil.example/x">https://www.bank.example/login</a></p>'
    found = [f for f in check(make_raw(html=html)).findings if f.rule_id == "MSG-LINK-TEXT-MISMATCH"]
    assert found and found[0].evidence["shown"] == "www.bank.example"


def test_link_text_on_the_same_organisation_is_fine(check):
    html = DEFAULT_HTML + ('<p><a href="https://click.shop.example/t/1">www.shop.example</a> '
                           '<a href="https://shop.example/a">see index.html</a> <a href="https://shop.example/b">v1.2</a></p>')
    assert "MSG-LINK-TEXT-MISMATCH" not in ids(check(make_raw(html=html)))


def test_public_shortener(check):
    html = DEFAULT_HTML + '<p><a href="https://bit.ly/3xYz">sale</a></p>'
    found = [f for f in check(make_raw(html=html)).findings if f.rule_id == "MSG-LINK-SHORTENER"]
    assert found and found[0].evidence["domain"] == "bit.ly"
    assert "MSG-LINK-SHORTENER" not in ids(check(make_raw()))


def test_links_come_from_a_real_html_parser():
    reader = read_html('<a href="https://a.example/1" title="x>y">One &amp; <b>two</b></a>'
                       "<script>var s='<a href=\"https://hidden.example\">';</script>"
                       '<A HREF="https://b.example/2">B</A><a name="anchor">no href</a>')
    assert [(lk.href, lk.text, lk.domain) for lk in reader.links] == [
        ("https://a.example/1", "One & two", "a.example"), ("https://b.example/2", "B", "b.example")]


def test_linked_domain_on_a_blocklist(check):
    lists = parse_blocklists("domain:dbl.test=block")
    html = DEFAULT_HTML + '<p><a href="https://www.bad-links.example/offer">offer</a></p>'
    report = check(make_raw(html=html), blocklists=lists)
    listed = [f for f in report.findings if f.rule_id == "BL-LINK-DOMAIN-LISTED"]
    assert listed and "bad-links.example" in (listed[0].detail + str(listed[0].evidence))
    assert "BL-LINK-DOMAIN-LISTED" not in ids(check(make_raw(), blocklists=lists))
    assert "BL-LINK-DOMAIN-LISTED" not in ids(check(make_raw(html=html)))  # no lists given, none asked
