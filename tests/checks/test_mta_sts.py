"""MTA-STS: MTA-STS-MISSING and MTA-STS-INVALID (record, unreachable policy, bad policy)."""

from __future__ import annotations

import datetime as dt
import http.server
import ssl
import threading
from collections.abc import Iterator

import checkdmarc.mta_sts
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from checks.dns_auth.mta_sts import check_mta_sts, https_fetcher, parse_policy
from checks.zone_server import free_port
from tests.checks.conftest import DOMAIN, ids, zone

POLICY = f"version: STSv1\nmode: enforce\nmx: mail.{DOMAIN}\nmax_age: 604800\n"


def test_valid_record_and_policy(serve) -> None:
    result = check_mta_sts(DOMAIN, resolver=serve(zone()), fetch_policy=lambda d: POLICY)
    assert result.findings == []
    assert result.record["policy"]["mode"] == "enforce"


def test_missing(serve) -> None:
    assert ids(check_mta_sts(DOMAIN, resolver=serve(zone(good=False))).findings) == {"MTA-STS-MISSING"}


def test_invalid_record(serve) -> None:
    r = serve(zone('_mta-sts IN TXT "v=STSv1; id=bad id!"', good=False))
    assert ids(check_mta_sts(DOMAIN, resolver=r, fetch_policy=lambda d: POLICY).findings) == {"MTA-STS-INVALID"}


def test_unreachable_policy_is_invalid_with_a_clear_detail(serve) -> None:
    # the default fetcher resolves mta-sts.<domain> through our resolver first: it does not exist
    r = serve(zone())
    found = check_mta_sts(DOMAIN, resolver=r, fetch_policy=https_fetcher(r, timeout=1)).findings
    assert ids(found) == {"MTA-STS-INVALID"}
    assert f"https://mta-sts.{DOMAIN}/.well-known/mta-sts.txt unreachable" in found[0].detail
    assert f"mta-sts.{DOMAIN} does not resolve" in found[0].detail


def test_policy_that_does_not_parse(serve) -> None:
    found = check_mta_sts(DOMAIN, resolver=serve(zone()), fetch_policy=lambda d: "mode: maybe\n").findings
    assert ids(found) == {"MTA-STS-INVALID"}
    assert "does not parse" in found[0].detail


def test_parse_policy_on_a_string() -> None:
    assert parse_policy(POLICY)["mx"] == [f"mail.{DOMAIN}"]
    with pytest.raises(checkdmarc.mta_sts.MTASTSPolicySyntaxError):
        parse_policy("version: STSv1\nmode: sometimes\nmax_age: 1\n")


@pytest.fixture
def policy_host(tmp_path) -> Iterator[tuple[int, ssl.SSLContext, dict]]:
    """A local HTTPS server with a certificate for mta-sts.DOMAIN: (port, client context, routes)."""
    host = f"mta-sts.{DOMAIN}"
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    routes: dict[str, tuple[int, str]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = routes.get(self.path, (404, "not here"))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = server_ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    client_ctx = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    yield server.server_address[1], client_ctx, routes
    server.shutdown()
    server.server_close()


def test_policy_fetched_over_https_through_our_resolver(serve, policy_host) -> None:
    port, ctx, routes = policy_host
    routes["/.well-known/mta-sts.txt"] = (200, POLICY)
    r = serve(zone("mta-sts IN A 127.0.0.1"))
    result = check_mta_sts(DOMAIN, resolver=r, fetch_policy=https_fetcher(r, 2, port=port, context=ctx))
    assert result.findings == [] and result.record["policy"]["mode"] == "enforce"


def test_policy_not_found_is_invalid(serve, policy_host) -> None:
    port, ctx, _ = policy_host
    r = serve(zone("mta-sts IN A 127.0.0.1"))
    found = check_mta_sts(DOMAIN, resolver=r, fetch_policy=https_fetcher(r, 2, port=port, context=ctx)).findings
    assert ids(found) == {"MTA-STS-INVALID"} and "HTTP 404" in found[0].detail


def test_untrusted_certificate_is_invalid(serve, policy_host) -> None:
    port, _, routes = policy_host
    routes["/.well-known/mta-sts.txt"] = (200, POLICY)
    r = serve(zone("mta-sts IN A 127.0.0.1"))
    found = check_mta_sts(DOMAIN, resolver=r, fetch_policy=https_fetcher(r, 2, port=port)).findings
    assert ids(found) == {"MTA-STS-INVALID"} and "CERTIFICATE_VERIFY_FAILED" in found[0].detail


def test_nothing_listening_is_invalid(serve) -> None:
    r = serve(zone("mta-sts IN A 127.0.0.1"))
    found = check_mta_sts(DOMAIN, resolver=r, fetch_policy=https_fetcher(r, 1, port=free_port())).findings
    assert ids(found) == {"MTA-STS-INVALID"} and "unreachable" in found[0].detail


# --- enforce policies that leave out a real MX (RFC 8461 §4.1); policies not enforced (§3.2) ----

def _policy(mode: str = "enforce", mx: tuple[str, ...] = (f"mail.{DOMAIN}",), max_age: int = 604800) -> str:
    return "version: STSv1\n" + f"mode: {mode}\n" + "".join(f"mx: {m}\n" for m in mx) + f"max_age: {max_age}\n"


def test_enforce_policy_not_listing_the_real_mx(serve) -> None:
    r = serve(zone(f"@ IN MX 20 backup.{DOMAIN}.", "backup IN A 192.0.2.11"))
    found = check_mta_sts(DOMAIN, resolver=r, fetch_policy=lambda d: _policy()).findings
    assert ids(found) == {"MTA-STS-MX-MISMATCH"} and found[0].severity == "block"
    assert found[0].evidence["missing"] == [f"backup.{DOMAIN}"]
    fixed = _policy(mx=(f"mail.{DOMAIN}", f"backup.{DOMAIN}"))
    assert check_mta_sts(DOMAIN, resolver=r, fetch_policy=lambda d: fixed).findings == []


@pytest.mark.parametrize(("mx", "pattern", "mismatch"), [
    (f"mail.{DOMAIN}", f"*.{DOMAIN}", False),
    (f"a.mail.{DOMAIN}", f"*.{DOMAIN}", True),  # a wildcard covers one label only
    (f"mail.{DOMAIN}", f"*.mail.{DOMAIN}", True),
    (f"MAIL.{DOMAIN}", f"mail.{DOMAIN}.", False),
])
def test_wildcard_matching(serve, mx: str, pattern: str, mismatch: bool) -> None:
    r = serve(zone(f"@ IN MX 10 {mx}.", good=False) + '_mta-sts IN TXT "v=STSv1; id=1"\n')
    found = check_mta_sts(DOMAIN, resolver=r, fetch_policy=lambda d: _policy(mx=(pattern,))).findings
    assert ("MTA-STS-MX-MISMATCH" in ids(found)) is mismatch


@pytest.mark.parametrize(("policy", "expected"), [
    (_policy(mode="testing"), {"MTA-STS-TESTING"}),
    (_policy(mode="none", mx=()), {"MTA-STS-TESTING"}),
    (_policy(max_age=3600), {"MTA-STS-TESTING"}),
    (_policy(max_age=86400), set()),
])
def test_policy_not_enforced_or_short_lived(serve, policy: str, expected: set[str]) -> None:
    found = check_mta_sts(DOMAIN, resolver=serve(zone()), fetch_policy=lambda d: policy).findings
    assert ids(found) == expected


# --- DNS failures are not absences ---------------------------------------------------------------

def test_failed_record_lookup_is_not_missing(dns_server, resolver_for) -> None:
    server = dns_server(zone(), failures={f"_mta-sts.{DOMAIN}": "servfail"})
    found = check_mta_sts(DOMAIN, resolver=resolver_for(server, 0.3), fetch_policy=lambda d: POLICY).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].evidence == {"record": "mta-sts", "name": f"_mta-sts.{DOMAIN}", "rdtype": "TXT",
                                 "error": "SERVFAIL"}


def test_failed_policy_host_lookup_is_not_invalid(dns_server, resolver_for, policy_host) -> None:
    port, ctx, routes = policy_host
    routes["/.well-known/mta-sts.txt"] = (200, POLICY)
    server = dns_server(zone("mta-sts IN A 127.0.0.1"))
    server.fail(f"mta-sts.{DOMAIN}", "timeout")
    r = resolver_for(server, 0.3)
    found = check_mta_sts(DOMAIN, resolver=r, fetch_policy=https_fetcher(r, 2, port=port, context=ctx)).findings
    assert ids(found) == {"DNS-LOOKUP-FAILED"}
    assert found[0].evidence == {"record": "mta-sts", "name": f"mta-sts.{DOMAIN}", "rdtype": "A", "error": "timeout"}
    server.heal()
    r = resolver_for(server, 0.3)
    assert check_mta_sts(DOMAIN, resolver=r, fetch_policy=https_fetcher(r, 2, port=port, context=ctx)).findings == []
