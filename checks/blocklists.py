"""DNS blocklists (RFC 5782): IP lists (IPv4, IPv6 nibbles) and domain lists, queried concurrently.

An answer in 127.0.0.0/8 means listed, except the codes a list uses for errors; answers outside
127/8, timeouts and lists that fail the RFC 5782 §5 self-test are errors, never listings.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dns.exception
import dns.resolver
import dns.reversename

from checks.catalogue import finding
from checks.findings import Finding

Kind = Literal["ip", "domain"]

DEFAULT_BLOCKLISTS = ("ip:zen.spamhaus.org=block,ip:bl.spamcop.net=warn,ip:b.barracudacentral.org=warn,"
                      "ip:psbl.surriel.com=warn,domain:dbl.spamhaus.org=block,domain:multi.surbl.org=block,"
                      "domain:multi.uribl.com=block")

# Return codes per list family (published by each operator).
SPAMHAUS_ERRORS = {"127.255.255.252": "typo in the query name", "127.255.255.254":
                   "query through a public/open resolver refused", "127.255.255.255": "over the free-use quota"}
ZEN_CODES = {"127.0.0.2": "SBL", "127.0.0.3": "SBL CSS", "127.0.0.4": "XBL", "127.0.0.5": "XBL",
             "127.0.0.6": "XBL", "127.0.0.7": "XBL", "127.0.0.9": "SBL DROP", "127.0.0.10": "PBL ISP",
             "127.0.0.11": "PBL Spamhaus"}
DBL_CODES = {"127.0.1.2": "spam domain", "127.0.1.4": "phish domain", "127.0.1.5": "malware domain",
             "127.0.1.6": "botnet C&C domain", "127.0.1.102": "abused legit spam", "127.0.1.103":
             "abused spammed redirector", "127.0.1.104": "abused legit phish", "127.0.1.105":
             "abused legit malware", "127.0.1.106": "abused legit botnet C&C"}
DOMAIN_TEST_POINTS = {"dbl.spamhaus.org": "dbltest.com", "surbl.org": "test.surbl.org", "uribl.com": "test.uribl.com"}
SURBL_BITS = {8: "PH phishing", 16: "MW malware", 64: "ABUSE", 128: "CR cracked"}
URIBL_BITS = {2: "black", 4: "grey", 8: "red", 16: "gold"}


class BlocklistConfigError(ValueError):
    """``AUDITOR_BLOCKLISTS`` does not parse; the message names the bad item."""


@dataclass(frozen=True)
class Blocklist:
    """One list: what it lists, its DNS zone and the severity of a listing."""

    kind: Kind
    zone: str
    severity: Literal["block", "warn"] = "block"

    @property
    def test_entries(self) -> tuple[str, str]:
        """(must be listed, must not be listed) for the RFC 5782 §5 self-test of this list."""
        # IP lists: 127.0.0.2 / 127.0.0.1. Domain lists: TEST / INVALID, except where the
        # operator publishes its own test point instead (Spamhaus DBL, SURBL, URIBL docs).
        if self.kind == "ip":
            return "127.0.0.2", "127.0.0.1"
        for suffix, entry in DOMAIN_TEST_POINTS.items():
            if self.zone == suffix or self.zone.endswith("." + suffix):
                return entry, "invalid"
        return "test", "invalid"

    def query_name(self, target: str) -> str:
        """The name to look up for ``target`` (RFC 5782 §2.1, §2.2, §2.4)."""
        if self.kind == "ip":
            rev = dns.reversename.from_address(target).to_text(omit_final_dot=True)
            labels = rev.rsplit(".", 2)[0]  # drop in-addr.arpa / ip6.arpa
            return f"{labels}.{self.zone}"
        return f"{target.lower().rstrip('.')}.{self.zone}"


def parse_blocklists(setting: str | None) -> list[Blocklist]:
    """Lists from ``AUDITOR_BLOCKLISTS`` (comma list or a file of lines), defaults when unset."""
    if setting is None or not setting.strip():
        setting = DEFAULT_BLOCKLISTS
    text = setting.strip()
    if ":" not in text or Path(text).is_file():  # every KIND:ZONE item has a colon; a path need not
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as exc:
            raise BlocklistConfigError(f"cannot read blocklist file {setting}: {exc.strerror}") from None
    items = [i.split("#", 1)[0].strip() for line in text.splitlines() for i in line.split(",")]
    out: list[Blocklist] = []
    for item in filter(None, items):
        kind, sep, rest = item.partition(":")
        zone, _, severity = rest.partition("=")
        kind, zone, severity = kind.strip().lower(), zone.strip().lower().rstrip("."), severity.strip().lower() or "block"
        if not sep or kind not in ("ip", "domain") or not zone or "." not in zone:
            raise BlocklistConfigError(f"blocklist {item!r}: expected KIND:ZONE[=SEVERITY], KIND ip or domain")
        if severity not in ("block", "warn"):
            raise BlocklistConfigError(f"blocklist {item!r}: severity must be block or warn")
        out.append(Blocklist(kind, zone, severity))  # type: ignore[arg-type]
    return out


def decode(zone: str, answers: list[str]) -> tuple[list[str], list[str]]:
    """Split A answers into (listing codes with meanings, error codes with meanings) for ``zone``."""
    listed, errors = [], []
    spamhaus = zone.endswith("spamhaus.org") or zone.endswith("spamhaus.net")
    for a in sorted(answers, key=ipaddress.ip_address):
        ip = ipaddress.ip_address(a)
        if ip not in ipaddress.ip_network("127.0.0.0/8"):
            errors.append(f"{a} outside 127.0.0.0/8 (a resolver rewriting NXDOMAIN?)")
        elif a in SPAMHAUS_ERRORS or (spamhaus and a.startswith("127.255.255.")):
            errors.append(f"{a} {SPAMHAUS_ERRORS.get(a, 'error')}")
        elif zone.endswith(("surbl.org", "uribl.com")) and a == "127.0.0.1":
            errors.append(f"{a} query refused (register for access)")
        elif zone.endswith("surbl.org"):
            listed.append(f"{a} " + _bits(int(a.rsplit(".", 1)[1]), SURBL_BITS))
        elif zone.endswith("uribl.com"):
            listed.append(f"{a} " + _bits(int(a.rsplit(".", 1)[1]), URIBL_BITS))
        elif zone.startswith("dbl.spamhaus"):
            listed.append(f"{a} {DBL_CODES.get(a, 'listed')}")
        elif spamhaus:
            listed.append(f"{a} {ZEN_CODES.get(a, 'listed')}")
        else:
            listed.append(f"{a} listed")
    return listed, errors


def _bits(value: int, names: dict[int, str]) -> str:
    return "+".join(n for bit, n in names.items() if value & bit) or "listed"


Lookup = tuple[list[str] | None, str | None]  # (A answers or TXT strings, error) of one query


def _resolve(name: str, rtype: str, resolver: dns.resolver.Resolver, timeout: float) -> Lookup:
    try:
        answer = resolver.resolve(name, rtype, lifetime=timeout)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return [], None
    except dns.exception.Timeout:
        return None, f"no answer within {timeout:g} s"
    except dns.exception.DNSException as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if rtype == "TXT":
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer], None
    return [r.address for r in answer], None


@dataclass
class SelfTests:
    """RFC 5782 §5 self-test answers per list, looked up once within an audit (thread-safe)."""

    results: dict[str, tuple[Future, Future]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, bl: Blocklist, pool: ThreadPoolExecutor, resolver: dns.resolver.Resolver,
              timeout: float) -> tuple[Future, Future]:
        """The (possibly shared) lookups of the must-list and must-not-list test entries."""
        with self.lock:
            futs = self.results.get(bl.zone)
            if futs is None:
                must, must_not = bl.test_entries
                futs = self.results[bl.zone] = tuple(  # type: ignore[assignment]
                    pool.submit(_resolve, bl.query_name(t), "A", resolver, timeout) for t in (must, must_not))
            return futs  # type: ignore[return-value]


def self_test_problem(bl: Blocklist, must: Lookup, must_not: Lookup) -> str | None:
    """Why a list fails its self-test, or None when it works."""
    entry, entry_not = bl.test_entries
    answers, error = must
    listed, errors = decode(bl.zone, answers or [])
    if error or errors or not listed:
        return f"self-test: {entry} is not listed ({error or '; '.join(errors) or 'NXDOMAIN'})"
    listed_not, _ = decode(bl.zone, must_not[0] or [])
    if listed_not:
        return f"self-test: {entry_not} is listed, so the list answers everything"
    return None


def _row(bl: Blocklist, target: str, a: Lookup, txt: Lookup, tests: tuple[Future, Future]) -> dict[str, Any]:
    answers, error = a
    listed, errors = decode(bl.zone, answers or [])
    if error:
        errors = [error] + errors
    broken = self_test_problem(bl, tests[0].result(), tests[1].result())
    if broken:
        errors = [broken] + errors
    status = "error" if errors else "listed" if listed else "clean"
    return {"zone": bl.zone, "kind": bl.kind, "target": target, "status": status,
            "codes": listed if status == "listed" else errors,
            "reason": " ".join(txt[0] or []) if status == "listed" else "", "severity": bl.severity}


def query_lists(targets: Iterable[tuple[Blocklist, str]], *, resolver: dns.resolver.Resolver,
                timeout: float | None = None, self_tests: SelfTests | None = None) -> list[dict[str, Any]]:
    """Query every (list, target) pair at once; one row per pair, in the given order."""
    pairs = list(targets)
    if not pairs:
        return []
    timeout = timeout or float(resolver.timeout)
    self_tests = self_tests or SelfTests()
    zones = {bl.zone for bl, _ in pairs}
    # all in flight together (A and TXT of each target, the self-test's two lookups), so the
    # whole check takes about one answer time of the slowest list
    with ThreadPoolExecutor(max_workers=min(96, 2 * len(pairs) + 2 * len(zones))) as pool:
        tests = {bl.zone: self_tests.start(bl, pool, resolver, timeout) for bl, _ in pairs}
        lookups = [(pool.submit(_resolve, bl.query_name(t), "A", resolver, timeout),
                    pool.submit(_resolve, bl.query_name(t), "TXT", resolver, timeout)) for bl, t in pairs]
        return [_row(bl, t, a.result(), txt.result(), tests[bl.zone])
                for (bl, t), (a, txt) in zip(pairs, lookups, strict=True)]


def row_finding(row: dict[str, Any], rule_id: str | None = None) -> Finding | None:
    """The finding for one row (None when clean)."""
    subject = f"{'ip' if row['kind'] == 'ip' else 'domain'}:{row['target']}"
    evidence = {"zone": row["zone"], "codes": row["codes"]}
    if row["status"] == "error":
        return finding("BL-QUERY-ERROR", f"{row['zone']}: {'; '.join(row['codes'])}", subject=subject,
                       evidence=evidence)
    if row["status"] != "listed":
        return None
    detail = f"{row['target']} on {row['zone']}: {', '.join(row['codes'])}" + (
        f" — {row['reason']}" if row["reason"] else "")
    if row["kind"] == "ip":
        pbl_only = all(" PBL" in c for c in row["codes"])
        # Spamhaus PBL lists end-user ranges by policy, not abuse: a reviewer decides (warn)
        minor = row["severity"] == "warn" or pbl_only
        return finding("BL-IP-LISTED-MINOR" if minor else "BL-IP-LISTED", detail, subject=subject, evidence=evidence)
    return finding(rule_id or "BL-DOMAIN-LISTED", detail, subject=subject, evidence=evidence,
                   severity="warn" if row["severity"] == "warn" else None)


def check_ip(ip: str, *, lists: list[Blocklist], resolver: dns.resolver.Resolver,
             self_tests: SelfTests | None = None) -> tuple[list[dict[str, Any]], list[Finding]]:
    """An IP on every IP list (IPv4 and IPv6): rows and findings."""
    ipaddress.ip_address(ip)
    rows = query_lists(((bl, ip) for bl in lists if bl.kind == "ip"), resolver=resolver, self_tests=self_tests)
    return rows, [f for f in map(row_finding, rows) if f]


def check_domains(domains: Iterable[str], *, lists: list[Blocklist], resolver: dns.resolver.Resolver,
                  rule_id: str = "BL-LINK-DOMAIN-LISTED", self_tests: SelfTests | None = None) -> list[Finding]:
    """Domains on every domain list; listings under ``rule_id``, failures as BL-QUERY-ERROR."""
    return check_domain_rows(domains, lists=lists, resolver=resolver, rule_id=rule_id, self_tests=self_tests)[1]


def check_domain_rows(domains: Iterable[str], *, lists: list[Blocklist], resolver: dns.resolver.Resolver,
                      rule_id: str = "BL-LINK-DOMAIN-LISTED",
                      self_tests: SelfTests | None = None) -> tuple[list[dict[str, Any]], list[Finding]]:
    """As ``check_domains``, with the rows."""
    names = sorted({d.lower().rstrip(".") for d in domains if d})
    rows = query_lists(((bl, d) for d in names for bl in lists if bl.kind == "domain"), resolver=resolver,
                       self_tests=self_tests)
    return rows, [f for f in (row_finding(r, rule_id) for r in rows) if f]
