"""Sending sources of a domain from its aggregate-report totals: the verdict and the findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from checks.catalogue import finding
from checks.findings import Finding
from checks.i18n import msg

Verdict = Literal["authorised", "forwarded", "unauthorised"]
# RULES.md §7: an authorised source whose DMARC pass share is below this is DMARC-ALIGNMENT-LOW.
ALIGNMENT_FLOOR = 0.98
# Mailbox providers and mail security gateways (parsedmarc's map types) relay mail they
# received: a failing source of that kind is a forwarder, not a spoofer.
FORWARDER_TYPES = frozenset({"Email Provider", "Email Security"})


@dataclass(frozen=True)
class SourceTotals:
    """What the reports say of one source IP over a period (message counts)."""

    ip: str
    messages: int
    spf_aligned: int
    dkim_aligned: int
    dmarc_pass: int
    spf_pass: int = 0
    forwarded: int = 0
    ptr: str | None = None
    ptr_type: str | None = None
    selectors: tuple[str, ...] = ()
    reporters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A source with its verdict."""

    totals: SourceTotals
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)


def classify(t: SourceTotals) -> Verdict:
    """Authorised (aligned SPF, or aligned DKIM from a host that passes its own SPF), forwarded, or not."""
    half = t.messages / 2
    if t.spf_aligned > half:
        return "authorised"
    if t.dkim_aligned > half:
        # RFC 7489 §4.2 / RFC 7960 §3.2.1: a forwarder breaks SPF (its IP is in nobody's record) but
        # keeps the DKIM signature; an ESP signing for the domain passes SPF for its own bounce domain.
        return "authorised" if t.spf_pass > half else "forwarded"
    if t.forwarded > half or (t.ptr_type in FORWARDER_TYPES):
        return "forwarded"
    return "unauthorised"


def share(part: int, whole: int) -> float:
    """part / whole, 0 for an empty whole."""
    return part / whole if whole else 0.0


def source_findings(domain: str, sources: list[Source]) -> list[Finding]:
    """DMARC-SOURCE-UNAUTHORISED and DMARC-ALIGNMENT-LOW over a period's sources."""
    out: list[Finding] = []
    for s in sources:
        t = s.totals
        where = f"{t.ip} ({t.ptr})" if t.ptr else t.ip
        if s.verdict == "unauthorised":
            out.append(finding("DMARC-SOURCE-UNAUTHORISED", msg(
                "{source} sent {messages} messages as {domain} failing both SPF and DKIM alignment",
                source=where, messages=t.messages, domain=domain),
                subject=domain, evidence={"ip": t.ip, "messages": t.messages, "reporters": list(t.reporters)}))
        elif s.verdict == "authorised" and share(t.dmarc_pass, t.messages) < ALIGNMENT_FLOOR:
            out.append(finding("DMARC-ALIGNMENT-LOW", msg(
                "{source} passed DMARC for {percent}% of {messages} messages (at least 98% expected)",
                source=where, percent=f"{100 * share(t.dmarc_pass, t.messages):.1f}", messages=t.messages),
                subject=domain, evidence={"ip": t.ip, "messages": t.messages, "dmarc_pass": t.dmarc_pass}))
    return out


def tls_findings(domain: str, policies: list[dict]) -> list[Finding]:
    """TLSRPT-FAILURES when reporters saw failed TLS sessions to the domain's MX (RFC 8460 §4.4)."""
    failed = sum(int(p.get("failed", 0)) for p in policies)
    if not failed:
        return []
    total = failed + sum(int(p.get("successful", 0)) for p in policies)
    kinds = sorted({d.get("result_type", "?") for p in policies for d in p.get("failure_details") or []})
    return [finding("TLSRPT-FAILURES", msg(
        "{failed} of {total} TLS sessions to {domain} failed ({kinds})",
        failed=failed, total=total, domain=domain, kinds=", ".join(kinds) or "no details"),
        subject=domain, evidence={"failed": failed, "total": total, "result_types": kinds})]
