"""MTA-STS (RFC 8461): the ``_mta-sts`` record and the HTTPS policy, fetched by an injected function."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable
from typing import Any

import checkdmarc.mta_sts as cd
import dns.exception
import dns.resolver

from checks.catalogue import finding
from checks.dns_auth import CheckResult, cd_args, lookup_failure
from checks.findings import Finding

PolicyFetcher = Callable[[str], str]


class PolicyUnreachable(Exception):
    """The policy could not be fetched; the message says why."""


def policy_url(domain: str) -> str:
    """Where RFC 8461 §3.2 puts the policy."""
    return f"https://mta-sts.{domain}/.well-known/mta-sts.txt"


def parse_policy(text: str) -> dict[str, Any]:
    """Parse a policy file (checkdmarc); raises MTASTSPolicySyntaxError."""
    return dict(cd.parse_mta_sts_policy(text)["policy"])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to an address we resolved ourselves, verifying the certificate for ``host``."""

    def __init__(self, host: str, address: str, port: int, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def https_fetcher(resolver: dns.resolver.Resolver, timeout: float = 5.0, *, port: int = 443,
                  context: ssl.SSLContext | None = None) -> PolicyFetcher:
    """The default fetcher: the policy host is resolved through our resolver, then HTTPS GET.

    RFC 8461 §3.3: the certificate must be valid for ``mta-sts.<domain>``, redirects are not
    followed and only a 200 answer is a policy.
    """
    context = context or ssl.create_default_context()

    def fetch(domain: str) -> str:
        host = f"mta-sts.{domain}"
        try:
            addresses = [r.address for r in resolver.resolve(host, "A")]
        except dns.exception.DNSException as exc:
            raise PolicyUnreachable(f"{host} does not resolve ({type(exc).__name__})") from None
        conn = _PinnedHTTPS(host, addresses[0], port, timeout, context)
        try:
            conn.request("GET", "/.well-known/mta-sts.txt", headers={"User-Agent": "Auditor"})
            response = conn.getresponse()
            if response.status != 200:
                raise PolicyUnreachable(f"HTTP {response.status} (RFC 8461 §3.3 needs 200, no redirects)")
            return response.read(64 * 1024).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            raise PolicyUnreachable(f"{host} ({addresses[0]}:{port}): {exc}") from None
        finally:
            conn.close()

    return fetch


def check_mta_sts(domain: str, *, resolver: dns.resolver.Resolver,
                  fetch_policy: PolicyFetcher | None = None) -> CheckResult:
    """The record; when present, the policy it announces must be reachable and valid."""
    subject = f"domain:{domain}"
    try:
        query = cd.query_mta_sts_record(domain, **cd_args(resolver))
    except cd.MTASTSRecordNotFound as exc:
        return CheckResult(None, [finding("MTA-STS-MISSING", f"no record at _mta-sts.{domain} ({exc})",
                                          subject=subject, evidence=lookup_failure(exc))])
    except cd.MTASTSError as exc:
        return CheckResult(None, [finding("MTA-STS-INVALID", f"_mta-sts.{domain}: {exc}", subject=subject)])
    info: dict[str, Any] = {"record": query.get("record")}
    found: list[Finding] = []
    try:
        info["parsed"] = dict(cd.parse_mta_sts_record(query["record"])["tags"])
    except cd.MTASTSError as exc:
        return CheckResult(info, [finding("MTA-STS-INVALID", f"_mta-sts.{domain}: {exc}", subject=subject)])
    fetch = fetch_policy or https_fetcher(resolver)
    try:
        text = fetch(domain)
    except Exception as exc:  # noqa: BLE001 - any failure to fetch leaves senders without a policy
        found.append(finding("MTA-STS-INVALID", f"policy {policy_url(domain)} unreachable: {exc}",
                             subject=subject))
        return CheckResult(info, found)
    try:
        info["policy"] = parse_policy(text)
    except cd.MTASTSError as exc:
        found.append(finding("MTA-STS-INVALID", f"policy {policy_url(domain)} does not parse: {exc}",
                             subject=subject))
    return CheckResult(info, found)
