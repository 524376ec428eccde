"""BIMI: BIMI-MISSING when there is no default._bimi record, none when there is."""

from __future__ import annotations

from checks.dns_auth.bimi import check_bimi
from tests.checks.conftest import DOMAIN, ids, zone


def test_present(serve) -> None:
    result = check_bimi(DOMAIN, resolver=serve(zone()))
    assert result.findings == [] and result.record["record"].startswith("v=BIMI1")


def test_missing(serve) -> None:
    assert ids(check_bimi(DOMAIN, resolver=serve(zone(good=False))).findings) == {"BIMI-MISSING"}
