"""TLS-RPT: TLSRPT-MISSING when absent or unusable, none when valid."""

from __future__ import annotations

from checks.dns_auth.tlsrpt import check_tlsrpt
from tests.checks.conftest import DOMAIN, ids, zone


def test_present(serve) -> None:
    result = check_tlsrpt(DOMAIN, resolver=serve(zone()))
    assert result.findings == [] and result.record["record"].startswith("v=TLSRPTv1")


def test_missing(serve) -> None:
    assert ids(check_tlsrpt(DOMAIN, resolver=serve(zone(good=False))).findings) == {"TLSRPT-MISSING"}


def test_unusable_record_counts_as_missing(serve) -> None:
    found = check_tlsrpt(DOMAIN, resolver=serve(zone('_smtp._tls IN TXT "v=TLSRPTv1; rua=ftp://x"',
                                                     good=False))).findings
    assert ids(found) == {"TLSRPT-MISSING"} and "unusable" in found[0].detail


def test_failed_tlsrpt_lookup_is_not_missing(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={f"_smtp._tls.{DOMAIN}": "timeout"})
    found = check_tlsrpt(DOMAIN, resolver=resolver_for(server, 0.3)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].evidence == {"record": "tlsrpt", "name": f"_smtp._tls.{DOMAIN}", "rdtype": "TXT",
                                 "error": "timeout"}
    server.heal()
    assert check_tlsrpt(DOMAIN, resolver=resolver_for(server, 0.3)).findings == []
