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
from checks.dns_auth import (
    CheckResult,
    LookupFailed,
    cd_args,
    checkdmarc_failure,
    lookup_failed,
    resolve,
    txt_records,
)
from checks.findings import Finding
from checks.i18n import msg

MIN_MAX_AGE = 86400  # RFC 8461 §3.2: weeks are recommended; under a day the policy barely caches

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
            answer = resolve(host, "A", resolver=resolver)  # a failed lookup raises LookupFailed
        except LookupFailed:
            raise
        if answer is None:
            raise PolicyUnreachable(f"{host} does not resolve (no A record)")
        addresses = [r.address for r in answer]
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


def mx_matches(host: str, pattern: str) -> bool:
    """RFC 8461 §4.1: an exact name, or ``*.`` matching exactly one leftmost label."""
    host, pattern = host.lower().rstrip("."), pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return host == pattern


def _mx_hosts(domain: str, resolver: dns.resolver.Resolver) -> list[str] | None:
    """The domain's MX host names; None when unknown (the MX check reports the failure)."""
    try:
        answer = resolve(domain, "MX", resolver=resolver)
    except LookupFailed:
        return None
    hosts = [r.exchange.to_text(omit_final_dot=True) for r in answer or ()]
    return [h for h in hosts if h not in ("", ".")]  # a null MX (RFC 7505) names no host


def policy_findings(policy: dict[str, Any], domain: str, mx_hosts: list[str] | None) -> list[Finding]:
    """MX hosts an enforce policy leaves out (RFC 8461 §4.1), and a policy not enforced (§3.2)."""
    subject = f"domain:{domain}"
    found: list[Finding] = []
    mode = str(policy.get("mode", "")).lower()
    patterns = [str(p) for p in policy.get("mx") or []]
    if mode == "enforce" and mx_hosts:
        missing = [h for h in mx_hosts if not any(mx_matches(h, p) for p in patterns)]
        if missing:
            found.append(finding("MTA-STS-MX-MISMATCH", msg(
                "the enforce policy lists {patterns} but not the MX host {hosts}: senders that enforce MTA-STS "
                "will not deliver to it", patterns=", ".join(patterns) or "no mx", hosts=", ".join(missing)),
                subject=subject, evidence={"missing": missing, "policy_mx": patterns}))
    max_age = policy.get("max_age")
    if mode in ("testing", "none"):
        found.append(finding("MTA-STS-TESTING", msg("policy mode is {mode}: senders deliver without TLS when it "
                                                    "fails", mode=mode), subject=subject, evidence={"mode": mode}))
    elif isinstance(max_age, int) and max_age < MIN_MAX_AGE:
        found.append(finding("MTA-STS-TESTING", msg("max_age is {max_age} seconds (under a day): the policy "
                                                    "expires from senders' caches almost at once", max_age=max_age),
                             subject=subject, evidence={"max_age": max_age}))
    return found


def check_mta_sts(domain: str, *, resolver: dns.resolver.Resolver,
                  fetch_policy: PolicyFetcher | None = None) -> CheckResult:
    """The record; when present, the policy it announces must be reachable, valid and fit the MX."""
    subject = f"domain:{domain}"
    name = f"_mta-sts.{domain}"
    try:
        txt_records(name, resolver=resolver)  # a failure here is no absence (RULES.md §7)
        query = cd.query_mta_sts_record(domain, **cd_args(resolver))
    except LookupFailed as exc:
        return CheckResult(None, [lookup_failed("mta-sts", exc, subject)])
    except cd.MTASTSError as exc:
        return checkdmarc_failure(exc, record="mta-sts", name=name, subject=subject,
                                  not_found=cd.MTASTSRecordNotFound, missing="MTA-STS-MISSING",
                                  invalid="MTA-STS-INVALID", unusable=msg("{name}: {error}", name=name, error=str(exc)))
    info: dict[str, Any] = {"record": query.get("record")}
    try:
        info["parsed"] = dict(cd.parse_mta_sts_record(query["record"])["tags"])
    except cd.MTASTSError as exc:
        return CheckResult(info, [finding("MTA-STS-INVALID", msg("{name}: {error}", name=name, error=str(exc)),
                                          subject=subject)])
    fetch = fetch_policy or https_fetcher(resolver)
    try:
        text = fetch(domain)
    except LookupFailed as exc:  # the policy host's name did not resolve for want of an answer
        return CheckResult(info, [lookup_failed("mta-sts", exc, subject)])
    except Exception as exc:  # noqa: BLE001 - any failure to fetch leaves senders without a policy
        return CheckResult(info, [finding("MTA-STS-INVALID", msg("policy {url} unreachable: {error}",
                                                                 url=policy_url(domain), error=str(exc)),
                                          subject=subject)])
    try:
        info["policy"] = parse_policy(text)
    except cd.MTASTSError as exc:
        return CheckResult(info, [finding("MTA-STS-INVALID", msg("policy {url} does not parse: {error}",
                                                                 url=policy_url(domain), error=str(exc)),
                                          subject=subject)])
    return CheckResult(info, policy_findings(info["policy"], domain, _mx_hosts(domain, resolver)))
