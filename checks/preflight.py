"""Zone preflight: serve a proposed zone on loopback and audit it before it is published."""

from __future__ import annotations

from collections.abc import Iterable

from checks.blocklists import Blocklist
from checks.domain_audit import DomainAudit, audit_domain
from checks.resolver import make_resolver
from checks.zone_server import ZoneError, ZoneServer, parse_zone, zone_entries

__all__ = ["ZoneError", "check_proposed_zone", "preflight_zone"]


def _within(name: str, origin: str) -> bool:
    name, origin = name.lower().rstrip("."), origin.lower().rstrip(".")
    return name == origin or name.endswith("." + origin)


def check_proposed_zone(zone_text: str, origin: str) -> None:
    """Refuse what cannot be the zone of ``origin``: empty text, a foreign ``$ORIGIN``, records
    that do not parse (with their line), or no record at or below ``origin``."""
    entries = list(zone_entries(zone_text))
    if not entries:
        raise ZoneError("the zone file is empty (no records): nothing to audit")
    for number, entry in entries:
        words = entry.split()
        if words[0].upper() == "$ORIGIN" and len(words) > 1 and words[1].endswith(".") \
                and not _within(words[1], origin):
            raise ZoneError(f"line {number}: $ORIGIN {words[1]} is not {origin.rstrip('.')} or below it: "
                            "this is another domain's zone", number)
    records = parse_zone(zone_text, origin)
    if not any(_within(str(rr.rname), origin) for rr in records):
        raise ZoneError(f"no record at or below {origin.rstrip('.')}: this is not its zone")


def preflight_zone(zone_text: str, origin: str, *, selectors: Iterable[str] = (), ips: Iterable[str] = (),
                   blocklists: Iterable[Blocklist] | None = None, timeout: float = 2.0) -> DomainAudit:
    """Audit ``origin`` as ``zone_text`` would publish it; raises ZoneError for bad zone text.

    Only the proposed zone answers, so blocklists are skipped unless given (a list zone the
    caller also serves there); names outside the zone (external includes, report domains)
    are NXDOMAIN, as they would be to a receiver if they were not published.
    """
    check_proposed_zone(zone_text, origin)
    with ZoneServer(zone_text, origin) as server:
        resolver = make_resolver([(server.address, server.port)], timeout)
        return audit_domain(origin, selectors=selectors, ips=ips, resolver=resolver,
                            blocklists=list(blocklists or ()),
                            fetch_policy=_no_policy_fetch)


def _no_policy_fetch(domain: str) -> str:
    raise ConnectionError(f"not fetched in preflight (the policy host mta-sts.{domain} is not live yet); "
                          "check it after publishing")
