"""Zone preflight: serve a proposed zone on loopback and audit it before it is published."""

from __future__ import annotations

from collections.abc import Iterable

from checks.blocklists import Blocklist
from checks.domain_audit import DomainAudit, audit_domain
from checks.resolver import make_resolver
from checks.zone_server import ZoneError, ZoneServer

__all__ = ["ZoneError", "preflight_zone"]


def preflight_zone(zone_text: str, origin: str, *, selectors: Iterable[str] = (), ips: Iterable[str] = (),
                   blocklists: Iterable[Blocklist] | None = None, timeout: float = 2.0) -> DomainAudit:
    """Audit ``origin`` as ``zone_text`` would publish it; raises ZoneError for bad zone text.

    Only the proposed zone answers, so blocklists are skipped unless given (a list zone the
    caller also serves there); names outside the zone (external includes, report domains)
    are NXDOMAIN, as they would be to a receiver if they were not published.
    """
    with ZoneServer(zone_text, origin) as server:
        resolver = make_resolver([(server.address, server.port)], timeout)
        return audit_domain(origin, selectors=selectors, ips=ips, resolver=resolver,
                            blocklists=list(blocklists or ()),
                            fetch_policy=_no_policy_fetch)


def _no_policy_fetch(domain: str) -> str:
    raise ConnectionError(f"not fetched in preflight (the policy host mta-sts.{domain} is not live yet); "
                          "check it after publishing")
