"""An authoritative DNS server on loopback that serves zone text (UDP and TCP).

Used for zone preflight (audit a zone before it is published) and by the tests, which must
never touch a public resolver.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from dnslib import QTYPE, RCODE, RR, DNSError, DNSLabel
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class ZoneError(ValueError):
    """The zone text does not parse; the message says where."""


def parse_zone(text: str, origin: str | None = None, ttl: int = 300) -> list[RR]:
    """Parse master-file text into records; raise ZoneError with the offending line."""
    if origin and "$ORIGIN" not in text:
        text = f"$ORIGIN {origin.rstrip('.')}.\n" + text
    if "$TTL" not in text:
        text = f"$TTL {ttl}\n" + text
    try:
        return list(RR.fromZone(text))
    except Exception as exc:  # dnslib raises assorted types on bad input
        raise ZoneError(f"zone does not parse: {exc}") from None


#: How an injected failure answers: ``timeout`` sends nothing, the others are response codes.
FAILURE_MODES = ("timeout", "servfail", "refused")


@dataclass
class ZoneResolver(BaseResolver):
    """Answers from a set of records: NXDOMAIN vs NODATA, CNAME chasing, ``*`` wildcards.

    ``drop`` (names whose queries get no answer) and ``failures`` (name, or ``"name TYPE"`` for
    one record type, -> a mode of FAILURE_MODES) apply to the name and every name below it and
    may be changed while the server runs.
    """

    records: list[RR]
    delays: dict[str, float] = field(default_factory=dict)
    drop: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name: dict[DNSLabel, list[RR]] = defaultdict(list)
        self.names: set[tuple[bytes, ...]] = set()
        for rr in self.records:
            self.by_name[rr.rname].append(rr)
            labels = tuple(x.lower() for x in rr.rname.label)
            for i in range(len(labels)):
                self.names.add(labels[i:])  # every ancestor exists (empty non-terminals)

    def _lookup(self, qname: DNSLabel) -> list[RR] | None:
        if qname in self.by_name:
            return self.by_name[qname]
        labels = tuple(x.lower() for x in qname.label)
        if labels in self.names:
            return []
        for i in range(1, len(labels)):
            wild = DNSLabel((b"*",) + qname.label[i:])
            if wild in self.by_name:
                out = []
                for rr in self.by_name[wild]:
                    copy = RR(qname, rr.rtype, rr.rclass, rr.ttl, rr.rdata)
                    out.append(copy)
                return out
        return None

    def _matches(self, suffixes, qname: DNSLabel) -> float | bool:
        name = str(qname).lower().rstrip(".")
        for suffix in suffixes:
            s = suffix.lower().rstrip(".")
            if name == s or name.endswith("." + s):
                return suffixes[suffix] if isinstance(suffixes, dict) else True
        return False

    def _failure(self, qname: DNSLabel, qtype: int) -> str | None:
        """The injected failure mode for this question, the most specific key winning."""
        if self._matches(set(self.drop), qname):
            return "timeout"
        name = str(qname).lower().rstrip(".")
        best: tuple[int, str] | None = None
        for key, mode in list(self.failures.items()):  # a snapshot: tests change it while serving
            suffix, _, rdtype = key.strip().partition(" ")
            suffix = suffix.lower().rstrip(".")
            if rdtype and rdtype.strip().upper() != QTYPE.get(qtype):
                continue
            if name == suffix or name.endswith("." + suffix):
                rank = len(suffix) * 2 + bool(rdtype)
                if best is None or rank > best[0]:
                    best = (rank, mode)
        return best[1] if best else None

    def resolve(self, request, handler):
        qname, qtype = request.q.qname, request.q.qtype
        delay = self._matches(self.delays, qname)
        if delay:
            time.sleep(float(delay))
        mode = self._failure(qname, qtype)
        if mode == "timeout":
            raise DNSError(f"dropped {qname}")  # dnslib's handler then sends nothing, quietly
        reply = request.reply()
        if mode in ("servfail", "refused"):
            reply.header.rcode = RCODE.SERVFAIL if mode == "servfail" else RCODE.REFUSED
            return reply
        reply.header.aa = 1
        name, seen = qname, 0
        while seen < 8:
            rrs = self._lookup(name)
            if rrs is None:
                if not reply.rr:
                    reply.header.rcode = RCODE.NXDOMAIN
                break
            wanted = [r for r in rrs if r.rtype == qtype or qtype == QTYPE.ANY]
            cnames = [r for r in rrs if r.rtype == QTYPE.CNAME]
            if wanted or not cnames or qtype == QTYPE.CNAME:
                for r in wanted:
                    reply.add_answer(r)
                if wanted and qtype not in (QTYPE.RRSIG, QTYPE.ANY):
                    # a signed zone answers with the signatures covering the set (RFC 4035 §3.1.1)
                    for r in rrs:
                        if r.rtype == QTYPE.RRSIG and r.rdata.covered == qtype:
                            reply.add_answer(r)
                break
            reply.add_answer(cnames[0])
            name, seen = cnames[0].rdata.label, seen + 1
        return reply


def _check_mode(mode: str) -> None:
    if mode not in FAILURE_MODES:
        raise ValueError(f"failure mode must be one of {', '.join(FAILURE_MODES)}, not {mode!r}")


class _QuietLogger(DNSLogger):
    def __init__(self):
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)


def free_port() -> int:
    """A port free on 127.0.0.1 for both UDP and TCP."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


class ZoneServer:
    """Serve zone text on 127.0.0.1 over UDP and TCP until ``stop()`` (or ``with``)."""

    def __init__(
        self,
        zone_text: str = "",
        origin: str | None = None,
        *,
        delays: dict[str, float] | None = None,
        drop: set[str] | None = None,
        failures: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.resolver = ZoneResolver(parse_zone(zone_text, origin) if zone_text.strip() else [],
                                     dict(delays or {}), set(drop or ()), dict(failures or {}))
        for mode in self.resolver.failures.values():
            _check_mode(mode)
        self.port = port or free_port()
        self.address = "127.0.0.1"
        logger = _QuietLogger()
        self._servers = [
            DNSServer(self.resolver, address=self.address, port=self.port, tcp=False, logger=logger),
            DNSServer(self.resolver, address=self.address, port=self.port, tcp=True, logger=logger),
        ]

    @property
    def nameserver(self) -> str:
        """``ip:port`` for AUDITOR_DNS_NAMESERVERS."""
        return f"{self.address}:{self.port}"

    def fail(self, name: str, mode: str = "servfail", rdtype: str | None = None) -> None:
        """Make ``name`` (and the names below it; only ``rdtype`` queries if given) fail: ``mode``
        is ``timeout`` (no answer), ``servfail`` or ``refused``. Takes effect on the next query."""
        _check_mode(mode)
        self.resolver.failures[f"{name} {rdtype.upper()}" if rdtype else name] = mode

    def heal(self, name: str | None = None, rdtype: str | None = None) -> None:
        """Stop failing ``name`` (or, without a name, every injected failure and drop)."""
        if name is None:
            self.resolver.failures.clear()
            self.resolver.drop.clear()
            return
        self.resolver.failures.pop(f"{name} {rdtype.upper()}" if rdtype else name, None)
        self.resolver.drop.discard(name)

    def set_zone(self, zone_text: str, origin: str | None = None) -> None:
        """Replace the served records (for tests that change a zone between audits)."""
        new = ZoneResolver(parse_zone(zone_text, origin), self.resolver.delays, self.resolver.drop,
                           self.resolver.failures)
        self.resolver.records, self.resolver.by_name, self.resolver.names = new.records, new.by_name, new.names

    def start(self) -> ZoneServer:
        for s in self._servers:
            s.server.daemon_threads = True
            # a short poll so stop() returns in milliseconds, not the default half second
            s.thread = threading.Thread(target=s.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
            s.thread.start()
        return self

    def stop(self) -> None:
        for s in self._servers:
            s.server.shutdown()
            s.server.server_close()

    def __enter__(self) -> ZoneServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
