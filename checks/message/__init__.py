"""Message checks (RULES.md §3): headers, DKIM, alignment, unsubscribe, links and size."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses
from typing import Any

import dns.resolver

from checks.catalogue import finding
from checks.findings import Finding
from checks.i18n import msg
from checks.message.alignment import aligned, organisational_domain
from checks.message.dkim import verify_signatures
from checks.message.links import Link, is_shortener, mismatched, read_html, text_links
from checks.message.parse import (
    BuiltMessage,
    MessageInputError,
    as_bytes,
    body_parts,
    build_message,
    header_findings,
    header_text,
    parse_message,
)
from checks.message.size import GMAIL_CLIP_BYTES, beyond_clip, clipped
from checks.message.unsubscribe import one_click, visible_unsubscribe

__all__ = ["BuiltMessage", "MessageInputError", "MessageReport", "build_message", "check_message", "organisational_domain"]


@dataclass(frozen=True)
class MessageReport:
    """The outcome of the message checks, and the facts the law packs read."""

    findings: list[Finding]
    from_addr: str | None = None
    from_domain: str | None = None
    dkim: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    spf_domain: str | None = None
    aligned: bool = False
    one_click: bool = False
    list_unsubscribe: str | None = None
    has_text_part: bool = False
    html_bytes: int = 0
    # read by the law packs
    from_display: str | None = None
    subject: str | None = None
    reply_to: list[str] = field(default_factory=list)
    in_reply_to: bool = False
    visible_text: str = ""
    unsubscribe_visible: str | None = None
    # built from parts and unsigned: the sender's MTA signs it at send time (DKIM judged from posture)
    signed_at_send: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "findings"}
        out["findings"] = [f.to_dict() for f in self.findings]
        return out

    @property
    def dkim_pass_domains(self) -> list[str]:
        """d= of every signature that verifies."""
        return [s["d"] for s in self.dkim if s["ok"] and s["d"]]


def check_message(raw: bytes | str | Message, *, resolver: dns.resolver.Resolver, marketing: bool = True,
                  bulk: bool = True, envelope_domain: str | None = None,
                  blocklists: list[Any] | None = None) -> MessageReport:
    """Every RULES.md §3 check of one message; link domains go to the blocklists when given."""
    data = as_bytes(raw)
    email_msg = parse_message(raw if isinstance(raw, Message) else data)
    findings, addr = header_findings(email_msg)
    from_domain = addr.domain.lower().rstrip(".") if addr else None

    signatures = verify_signatures(data, resolver=resolver)
    at_send = isinstance(raw, BuiltMessage) and not signatures
    findings += _dkim_findings(signatures, bulk and not at_send)
    spf_domain = (envelope_domain or _return_path_domain(email_msg) or None)
    spf_domain = spf_domain.lower().rstrip(".") if spf_domain else None
    is_aligned = bool(from_domain) and (
        any(s["ok"] and aligned(s["d"], from_domain) for s in signatures) or aligned(spf_domain, from_domain))
    if from_domain and not is_aligned:
        findings.append(finding("MSG-NOT-ALIGNED", _alignment_detail(from_domain, signatures, spf_domain),
                                evidence={"from_domain": from_domain, "spf_domain": spf_domain,
                                          "dkim_domains": [s["d"] for s in signatures if s["ok"]]}))

    list_unsub = header_text(email_msg, "List-Unsubscribe")
    oc = one_click(list_unsub, header_text(email_msg, "List-Unsubscribe-Post"), signatures, signed_at_send=at_send)
    if marketing and list_unsub is None:
        findings.append(finding("MSG-LIST-UNSUBSCRIBE-MISSING", msg("a marketing message must carry List-Unsubscribe")))
    if marketing and not oc.ok:
        findings.append(finding("MSG-ONE-CLICK-MISSING", msg("{problems}", problems=oc.problems),
                                evidence={"problems": oc.problems, "uris": oc.uris}))

    html, text = body_parts(email_msg)
    links, visible = _links_and_text(html, text)
    way_out = visible_unsubscribe(links, visible)
    if marketing and not way_out:
        findings.append(finding("MSG-UNSUBSCRIBE-LINK-MISSING",
                                msg("no visible link or instruction to unsubscribe («отписаться», unsubscribe, opt out)")))
    html_bytes = len(html.encode("utf-8")) if html else 0
    if html is not None and clipped(html_bytes):
        late = way_out is not None and way_out.startswith("link ") and beyond_clip(html, way_out[5:])
        clip = (msg("HTML is {size} bytes (Gmail clips past {limit}); the unsubscribe link lies in the clipped part",
                    size=html_bytes, limit=GMAIL_CLIP_BYTES) if late else
                msg("HTML is {size} bytes (Gmail clips past {limit})", size=html_bytes, limit=GMAIL_CLIP_BYTES))
        findings.append(finding("MSG-SIZE-CLIPPED", clip,
                                evidence={"html_bytes": html_bytes, "unsubscribe_clipped": late}))
    if html is not None and text is None:
        findings.append(finding("MSG-NO-TEXT-PART", msg("the HTML part has no text/plain alternative")))
    findings += _link_findings(links)
    if blocklists:
        from checks.blocklists import check_domains

        # domain lists (DBL, SURBL, URIBL) list registered domains; hosts are asked too
        hosts = {lk.domain for lk in links if lk.domain}
        findings += check_domains(sorted(hosts | {organisational_domain(h) for h in hosts}),
                                  lists=list(blocklists), resolver=resolver)

    display, _ = _from_display(email_msg)
    return MessageReport(
        findings=findings, from_addr=addr.addr_spec.lower() if addr else None, from_domain=from_domain,
        dkim=signatures, links=[lk.to_dict() for lk in links], spf_domain=spf_domain, aligned=is_aligned,
        one_click=oc.ok, list_unsubscribe=list_unsub, has_text_part=text is not None, html_bytes=html_bytes,
        from_display=display, subject=header_text(email_msg, "Subject"), reply_to=_reply_to(email_msg),
        in_reply_to=bool(header_text(email_msg, "In-Reply-To") or header_text(email_msg, "References")),
        visible_text=visible, unsubscribe_visible=way_out, signed_at_send=at_send)


def _dkim_findings(signatures: list[dict[str, Any]], bulk: bool) -> list[Finding]:
    if not signatures:
        return [finding("MSG-DKIM-UNSIGNED", msg("no DKIM-Signature header"))] if bulk else []
    return [finding("MSG-DKIM-FAIL", msg("d={d} s={s}: {error}", d=s["d"], s=s["s"], error=s["error"]),
                    evidence={"d": s["d"], "s": s["s"], "error": s["error"], "bits": s["bits"]})
            for s in signatures if not s["ok"]]


def _alignment_detail(from_domain: str, signatures: list[dict[str, Any]], spf_domain: str | None) -> str:
    dkim = ", ".join(f"d={s['d']}" for s in signatures if s["ok"]) or msg("no verifying DKIM signature")
    return msg("From domain {domain} (organisational {org}); DKIM: {dkim}; SPF domain: {spf}",
               domain=from_domain, org=organisational_domain(from_domain), dkim=dkim,
               spf=spf_domain or msg("unknown (no envelope or Return-Path)"))


def _return_path_domain(msg: Message) -> str | None:
    value = header_text(msg, "Return-Path")
    pairs = getaddresses([value]) if value else []
    if pairs and "@" in pairs[0][1]:
        return pairs[0][1].rsplit("@", 1)[1]
    return None


def _from_display(msg: Message) -> tuple[str | None, str | None]:
    value = header_text(msg, "From")
    pairs = getaddresses([value]) if value else []
    return (pairs[0][0] or None, pairs[0][1] or None) if len(pairs) == 1 else (None, None)


def _reply_to(msg: Message) -> list[str]:
    value = header_text(msg, "Reply-To")
    return [a.lower() for _n, a in getaddresses([value])] if value else []


def _links_and_text(html: str | None, text: str | None) -> tuple[list[Link], str]:
    """Links of both parts; the visible text is the HTML's when there is HTML (what readers see)."""
    links: list[Link] = []
    visible = ""
    if html is not None:
        reader = read_html(html)
        links += reader.links
        visible = reader.text
    if text is not None:
        links += text_links(text)
        if html is None:
            visible = text
    return links, visible


def _link_findings(links: list[Link]) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for link in links:
        shown = mismatched(link)
        if shown and ("mismatch", link.href) not in seen:
            seen.add(("mismatch", link.href))
            out.append(finding("MSG-LINK-TEXT-MISMATCH", msg("text shows {shown}, link goes to {domain}", shown=shown, domain=link.domain),
                               evidence={"href": link.href, "text": link.text, "shown": shown}))
        if is_shortener(link.domain) and ("short", link.domain or "") not in seen:
            seen.add(("short", link.domain or ""))
            out.append(finding("MSG-LINK-SHORTENER", msg("{domain} hides where {href} leads", domain=link.domain, href=link.href),
                               evidence={"href": link.href, "domain": link.domain}))
    return out
