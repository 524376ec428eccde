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

from checks.catalogue import finding
from checks.findings import Finding
from checks.i18n import msg

Kind = Literal["ip", "domain"]

DEFAULT_BLOCKLISTS = ("ip:zen.spamhaus.org=block,ip:bl.spamcop.net=warn,ip:b.barracudacentral.org=warn,"
                      "ip:psbl.surriel.com=warn,domain:dbl.spamhaus.org=block,domain:multi.surbl.org=block,"
                      "domain:multi.uribl.com=block")

# Return codes per list family (published by each operator); each list's own wording only.
SPAMHAUS_ERRORS = {"127.255.255.252": "Spamhaus: typo in the query name", "127.255.255.254":
                   "Spamhaus: query through a public/open resolver refused", "127.255.255.255":
                   "Spamhaus: over the free-use quota"}
SURBL_REFUSED = "SURBL: query blocked (a public or high-volume resolver; use your own resolver or a feed)"
URIBL_REFUSED = "URIBL: query refused (a public or high-volume resolver; register for access)"
OTHER_ERROR = "error code of the list, not a listing (see the list's documentation)"
ZEN_CODES = {"127.0.0.2": "SBL", "127.0.0.3": "SBL CSS", "127.0.0.4": "XBL", "127.0.0.5": "XBL",
             "127.0.0.6": "XBL", "127.0.0.7": "XBL", "127.0.0.9": "SBL DROP", "127.0.0.10": "PBL ISP",
             "127.0.0.11": "PBL Spamhaus"}
DBL_CODES = {"127.0.1.2": "spam domain", "127.0.1.4": "phish domain", "127.0.1.5": "malware domain",
             "127.0.1.6": "botnet C&C domain", "127.0.1.102": "abused legit spam", "127.0.1.103":
             "abused spammed redirector", "127.0.1.104": "abused legit phish", "127.0.1.105":
             "abused legit malware", "127.0.1.106": "abused legit botnet C&C"}
DOMAIN_TEST_POINTS = {"dbl.spamhaus.org": "dbltest.com", "surbl.org": "test.surbl.org", "uribl.com": "test.uribl.com"}
# RFC 5782 §5: an IPv6 list MUST list ::FFFF:7F00:2 and MUST NOT list ::FFFF:7F00:1.
IPV6_TEST_POINTS = ("::ffff:7f00:2", "::ffff:7f00:1")
SURBL_BITS = {8: "PH phishing", 16: "MW malware", 64: "ABUSE", 128: "CR cracked"}
URIBL_BITS = {2: "black", 4: "grey", 8: "red", 16: "gold"}
UNCOVERED = "uncovered"  # row status: the list does not cover this kind of address (IPv6)


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
        return self.test_entries_for(4)

    def test_entries_for(self, version: int) -> tuple[str, str]:
        """The self-test entries for targets of IP ``version`` (4 or 6; domain lists ignore it)."""
        # IP lists: 127.0.0.2 / 127.0.0.1, or ::FFFF:7F00:2 / ::FFFF:7F00:1 for IPv6. Domain lists:
        # TEST / INVALID, except where the operator publishes its own test point instead
        # (Spamhaus DBL, SURBL, URIBL docs).
        if self.kind == "ip":
            return IPV6_TEST_POINTS if version == 6 else ("127.0.0.2", "127.0.0.1")
        for suffix, entry in DOMAIN_TEST_POINTS.items():
            if self.zone == suffix or self.zone.endswith("." + suffix):
                return entry, "invalid"
        return "test", "invalid"

    def query_name(self, target: str) -> str:
        """The name to look up for ``target`` (RFC 5782 §2.1, §2.2, §2.4)."""
        if self.kind == "ip":
            # ipaddress, not dns.reversename: the latter turns ::FFFF:7F00:2 (the IPv6 test
            # point) into 2.0.0.127.in-addr.arpa, which is the IPv4 test point
            labels = ipaddress.ip_address(target).reverse_pointer.rsplit(".", 2)[0]  # drop *.arpa
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
    spamhaus = zone.endswith(("spamhaus.org", "spamhaus.net"))
    surbl, uribl = zone.endswith("surbl.org"), zone.endswith("uribl.com")
    for a in sorted(answers, key=ipaddress.ip_address):
        ip = ipaddress.ip_address(a)
        if ip not in ipaddress.ip_network("127.0.0.0/8"):
            errors.append(f"{a} outside 127.0.0.0/8 (a resolver rewriting NXDOMAIN?)")
        elif spamhaus and a.startswith("127.255.255."):
            errors.append(f"{a} {SPAMHAUS_ERRORS.get(a, 'Spamhaus: error')}")
        elif (surbl or uribl) and a == "127.0.0.1":
            errors.append(f"{a} {SURBL_REFUSED if surbl else URIBL_REFUSED}")
        elif surbl:
            listed.append(f"{a} " + _bits(int(a.rsplit(".", 1)[1]), SURBL_BITS))
        elif uribl:
            listed.append(f"{a} " + _bits(int(a.rsplit(".", 1)[1]), URIBL_BITS))
        elif zone.startswith("dbl.spamhaus"):
            listed.append(f"{a} {DBL_CODES.get(a, 'listed')}")
        elif spamhaus:
            listed.append(f"{a} {ZEN_CODES.get(a, 'listed')}")
        elif a.startswith("127.255.255."):
            # not a Spamhaus list: the code is an error by the common convention, in its own words
            errors.append(f"{a} {OTHER_ERROR}")
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
    """RFC 5782 §5 self-test answers per list and IP version, looked up once within an audit (thread-safe)."""

    results: dict[tuple[str, int], tuple[Future, Future]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, bl: Blocklist, pool: ThreadPoolExecutor, resolver: dns.resolver.Resolver,
              timeout: float, version: int = 4) -> tuple[Future, Future]:
        """The (possibly shared) lookups of the must-list and must-not-list test entries."""
        key = (bl.zone, version if bl.kind == "ip" else 4)
        with self.lock:
            futs = self.results.get(key)
            if futs is None:
                futs = self.results[key] = tuple(  # type: ignore[assignment]
                    pool.submit(_resolve, bl.query_name(t), "A", resolver, timeout)
                    for t in bl.test_entries_for(key[1]))
            return futs  # type: ignore[return-value]


def self_test(bl: Blocklist, must: Lookup, must_not: Lookup, version: int = 4) -> tuple[str, str] | None:
    """``("error", why)`` when the list fails its self-test, ``("uncovered", why)`` when an IP
    list answers cleanly but does not list the IPv6 test point (an IPv4-only list), else None."""
    entry, entry_not = bl.test_entries_for(version)
    answers, error = must
    listed, errors = decode(bl.zone, answers or [])
    if not error and not errors and not listed and version == 6 and bl.kind == "ip":
        return UNCOVERED, f"does not cover IPv6: the RFC 5782 §5 test point {entry.upper()} is not listed"
    if error or errors or not listed:
        return "error", f"self-test: {entry} is not listed ({error or '; '.join(errors) or 'NXDOMAIN'})"
    listed_not, _ = decode(bl.zone, must_not[0] or [])
    if listed_not:
        return "error", f"self-test: {entry_not} is listed, so the list answers everything"
    return None


def self_test_problem(bl: Blocklist, must: Lookup, must_not: Lookup) -> str | None:
    """Why a list fails its IPv4 (or domain) self-test, or None when it works."""
    result = self_test(bl, must, must_not)
    return result[1] if result else None


def _version(bl: Blocklist, target: str) -> int:
    return ipaddress.ip_address(target).version if bl.kind == "ip" else 4


def _row(bl: Blocklist, target: str, a: Lookup, txt: Lookup, tests: tuple[Future, Future]) -> dict[str, Any]:
    answers, error = a
    listed, errors = decode(bl.zone, answers or [])
    if error:
        errors = [error] + errors
    problem = self_test(bl, tests[0].result(), tests[1].result(), _version(bl, target))
    if problem and problem[0] == UNCOVERED:
        # an IPv6 address on an IPv4-only list is not checked, so it is not "clean" either
        return {"zone": bl.zone, "kind": bl.kind, "target": target, "status": UNCOVERED, "codes": [problem[1]],
                "reason": "", "severity": bl.severity}
    if problem:
        errors = [problem[1]] + errors
    status = "error" if errors else "listed" if listed else "clean"
    return {"zone": bl.zone, "kind": bl.kind, "target": target, "status": status,
            "codes": listed if status == "listed" else errors,
            "reason": " ".join(txt[0] or []) if status == "listed" else "", "severity": bl.severity}


def _group(rows: list[dict[str, Any]]) -> None:
    """One finding per list: the first error (or uncovered) row of a list carries every target and
    reason of that list in ``group``; the others carry ``group: None`` (told with the first)."""
    firsts: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row["status"] not in ("error", UNCOVERED):
            continue
        first = firsts.get((row["zone"], row["status"]))
        if first is None:
            firsts[(row["zone"], row["status"])] = row
            row["group"] = {"targets": [row["target"]], "codes": list(row["codes"])}
            continue
        row["group"] = None
        first["group"]["targets"].append(row["target"])
        first["group"]["codes"] += [c for c in row["codes"] if c not in first["group"]["codes"]]


def query_lists(targets: Iterable[tuple[Blocklist, str]], *, resolver: dns.resolver.Resolver,
                timeout: float | None = None, self_tests: SelfTests | None = None) -> list[dict[str, Any]]:
    """Query every (list, target) pair at once; one row per pair, in the given order."""
    pairs = list(targets)
    if not pairs:
        return []
    timeout = timeout or float(resolver.timeout)
    self_tests = self_tests or SelfTests()
    tested = {(bl.zone, _version(bl, t)) for bl, t in pairs}
    # all in flight together (A and TXT of each target, the self-test's two lookups), so the
    # whole check takes about one answer time of the slowest list
    with ThreadPoolExecutor(max_workers=min(96, 2 * len(pairs) + 2 * len(tested))) as pool:
        tests = {(bl.zone, v): self_tests.start(bl, pool, resolver, timeout, v)
                 for bl, t in pairs for v in [_version(bl, t)]}
        lookups = [(pool.submit(_resolve, bl.query_name(t), "A", resolver, timeout),
                    pool.submit(_resolve, bl.query_name(t), "TXT", resolver, timeout)) for bl, t in pairs]
        rows = [_row(bl, t, a.result(), txt.result(), tests[(bl.zone, _version(bl, t))])
                for (bl, t), (a, txt) in zip(pairs, lookups, strict=True)]
    _group(rows)
    return rows


def row_findings(rows: Iterable[dict[str, Any]], rule_id: str | None = None) -> list[Finding]:
    """The findings of rows (one per listing, one per list that failed or does not cover IPv6)."""
    return [f for f in (row_finding(r, rule_id) for r in rows) if f]


def row_finding(row: dict[str, Any], rule_id: str | None = None) -> Finding | None:
    """The finding for one row (None when clean, or when its list is told with another row)."""
    subject = f"{'ip' if row['kind'] == 'ip' else 'domain'}:{row['target']}"
    evidence: dict[str, Any] = {"zone": row["zone"], "codes": row["codes"]}
    if row["status"] in ("error", UNCOVERED):
        if "group" in row and row["group"] is None:
            return None  # told with the first row of its list
        group = row.get("group") or {"targets": [row["target"]], "codes": row["codes"]}
        evidence = {"zone": row["zone"], "targets": group["targets"], "codes": group["codes"]}
        params = {"zone": row["zone"], "targets": ", ".join(group["targets"]), "reasons": "; ".join(group["codes"])}
        if row["status"] == UNCOVERED:
            # RFC 5782 §5: an IPv4-only list says nothing about IPv6 addresses
            return finding("BL-QUERY-ERROR", msg("{zone} does not cover IPv6 (the RFC 5782 §5 test point "
                                                 "::FFFF:7F00:2 is not listed): {targets} not checked on it",
                                                 zone=row["zone"], targets=params["targets"]),
                           subject=f"blocklist:{row['zone']}", evidence=evidence, severity="info")
        return finding("BL-QUERY-ERROR", msg("{zone} could not be queried for {targets}: {reasons}", **params),
                       subject=f"blocklist:{row['zone']}", evidence=evidence)
    if row["status"] != "listed":
        return None
    params = {"target": row["target"], "zone": row["zone"], "codes": ", ".join(row["codes"]), "reason": row["reason"]}
    detail = (msg("{target} on {zone}: {codes} — {reason}", **params) if row["reason"]
              else msg("{target} on {zone}: {codes}", **{k: v for k, v in params.items() if k != "reason"}))
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
    return rows, row_findings(rows)


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
    return rows, row_findings(rows, rule_id)
