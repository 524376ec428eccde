"""BIMI: BIMI-MISSING when there is no default._bimi record, none when there is."""

from __future__ import annotations

import pytest

from checks.dns_auth.bimi import check_bimi
from tests.checks.conftest import DOMAIN, ids, zone


def test_present(serve) -> None:
    result = check_bimi(DOMAIN, resolver=serve(zone()))
    assert result.findings == [] and result.record["record"].startswith("v=BIMI1")


def test_missing(serve) -> None:
    assert ids(check_bimi(DOMAIN, resolver=serve(zone(good=False))).findings) == {"BIMI-MISSING"}


# --- unusable records (BIMI draft §4) and DMARC that does not enforce (§4.1) --------------------

DMARC = f'_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:d@{DOMAIN}"'


def bimi_zone(record: str, dmarc: str = DMARC) -> str:
    return zone(dmarc, f'default._bimi IN TXT "{record}"', good=False)


@pytest.mark.parametrize(("record", "why"), [
    (f"v=BIMI1; l=http://{DOMAIN}/logo.svg", "not an https URL"),
    (f"v=BIMI1; l=https://{DOMAIN}/logo.png", "not an SVG"),
    (f"v=BIMI1; l=https://{DOMAIN}/logo.svg; a=http://{DOMAIN}/vmc.pem", "a=http"),
])
def test_unusable_record_is_invalid_and_not_present(serve, record: str, why: str) -> None:
    result = check_bimi(DOMAIN, resolver=serve(bimi_zone(record)))
    assert ids(result.findings) == {"BIMI-INVALID"} and why in result.findings[0].detail
    assert result.record is None  # a http l= no longer counts as present


def test_usable_record_with_enforcing_dmarc_is_fine(serve) -> None:
    record = f"v=BIMI1; l=https://{DOMAIN}/logo.svg; a=https://{DOMAIN}/vmc.pem"
    result = check_bimi(DOMAIN, resolver=serve(bimi_zone(record)))
    assert result.findings == [] and result.record["record"] == record


@pytest.mark.parametrize("dmarc", [
    f'_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:d@{DOMAIN}"',
    f'_dmarc IN TXT "v=DMARC1; p=quarantine; pct=50; rua=mailto:d@{DOMAIN}"',
    "",
])
def test_bimi_without_dmarc_enforcement(serve, dmarc: str) -> None:
    found = check_bimi(DOMAIN, resolver=serve(bimi_zone(f"v=BIMI1; l=https://{DOMAIN}/logo.svg", dmarc))).findings
    assert ids(found) == {"BIMI-NO-ENFORCEMENT"}


def test_failed_bimi_lookup_is_not_missing(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={f"default._bimi.{DOMAIN}": "refused"})
    found = check_bimi(DOMAIN, resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].evidence == {"record": "bimi", "name": f"default._bimi.{DOMAIN}", "rdtype": "TXT",
                                 "error": "REFUSED"}


def test_failed_dmarc_lookup_gives_no_enforcement_verdict(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={f"_dmarc.{DOMAIN}": "servfail"})
    assert check_bimi(DOMAIN, resolver=resolver_for(server, 0.3)).findings == []
