"""Finding a domain's DKIM selectors by probing the names providers and MTAs use by default."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dns.exception
import dns.resolver

from checks.dns_auth import LookupFailed
from checks.dns_auth.dkim import DkimKeyError, get_dkim_record, parse_dkim_key

# Defaults of the common senders: Google Workspace, Microsoft 365, Yandex 360, Mail.ru for
# business, Amazon SES (custom), Mailchimp/Mandrill, SendGrid, Mailgun, Postmark, SparkPost,
# Zoho, Fastmail, Proton, Brevo, rspamd/OpenDKIM/Exim installs, and the generic names.
COMMON_SELECTORS: tuple[str, ...] = (
    "google", "selector1", "selector2", "mail", "dkim", "default", "yandex", "mailru", "k1", "k2", "k3",
    "mandrill", "mte1", "s1", "s2", "smtpapi", "em", "mg", "mx", "krs", "pm", "pm-bounces", "scph0316",
    "zoho", "zmail", "fm1", "fm2", "fm3", "protonmail", "protonmail2", "protonmail3", "mailjet", "brevo",
    "sendinblue", "mail1", "mail2", "dkim1", "dkim2", "key1", "key2", "sig1", "smtp", "email", "main",
    "2024", "2025", "2026", "202411", "202511", "202611", "everlytickey1", "everlytickey2", "cm", "mailo",
    "unisender", "us", "sendpulse", "dk", "dkim-ed25519", "ed25519", "rsa", "x",
)
PROBE_THREADS = 8


@dataclass(frozen=True)
class FoundSelector:
    """A selector that answered with a key record."""

    selector: str
    key_type: str
    bits: int | None
    revoked: bool


def _probe(domain: str, selector: str, resolver: dns.resolver.Resolver) -> FoundSelector | None:
    try:
        record = get_dkim_record(domain, selector, resolver=resolver)
    except (dns.exception.DNSException, LookupFailed):
        return None  # a probe that cannot be answered finds nothing; the configured-selector check reports failures
    if record is None:
        return None
    try:
        key = parse_dkim_key(record)
    except DkimKeyError:
        return FoundSelector(selector, "unknown", None, False)
    return FoundSelector(selector, key.key_type, key.bits, key.revoked)


def discover_selectors(domain: str, *, resolver: dns.resolver.Resolver,
                       candidates: Iterable[str] = COMMON_SELECTORS) -> list[FoundSelector]:
    """Selectors among ``candidates`` that publish a DKIM key record at ``<sel>._domainkey.<domain>``."""
    names = list(dict.fromkeys(c.lower() for c in candidates))
    with ThreadPoolExecutor(PROBE_THREADS) as pool:
        found = pool.map(lambda s: _probe(domain, s, resolver), names)
    return [f for f in found if f is not None]


def selectors_signed_in(raw: str | bytes, domain: str) -> list[str]:
    """Selectors of the message's DKIM-Signature headers whose d= is ``domain`` (RFC 6376 §3.5)."""
    import email
    import email.policy

    from checks.dns_auth.dkim import parse_dkim_tags

    msg = (email.message_from_bytes(raw, policy=email.policy.compat32) if isinstance(raw, bytes)
           else email.message_from_string(raw, policy=email.policy.compat32))
    out = []
    for header in msg.get_all("DKIM-Signature") or []:
        tags = parse_dkim_tags(str(header))
        if tags.get("d", "").lower().rstrip(".") == domain.lower().rstrip(".") and tags.get("s"):
            out.append(tags["s"].lower())
    return list(dict.fromkeys(out))
