"""DKIM verification (RFC 6376) with dkimpy, keys looked up through the configured resolver."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import dkim
import dns.exception
import dns.resolver
from dkim.util import InvalidTagValueList, parse_tag_value

from checks.i18n import msg

TxtLookup = Callable[..., bytes | None]


def txt_lookup(resolver: dns.resolver.Resolver) -> TxtLookup:
    """A dkimpy ``dnsfunc``: the key record's TXT strings joined (RFC 6376 §3.6.2.2), or None."""

    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        qname = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(qname.rstrip("."), "TXT", raise_on_no_answer=False)
        except (dns.exception.DNSException, UnicodeError):
            return None
        for rr in answer.rrset or ():
            value = b"".join(rr.strings)
            if b"p=" in value or value.lower().startswith(b"v=dkim1"):
                return value
        return None

    return lookup


def signature_headers(raw: bytes) -> list[bytes]:
    """Values of the DKIM-Signature header fields, topmost first."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    fields = re.split(rb"\r?\n(?![ \t])", head)
    return [f.split(b":", 1)[1] for f in fields if f.lower().startswith(b"dkim-signature:")]


def verify_signatures(raw: bytes, *, resolver: dns.resolver.Resolver) -> list[dict[str, Any]]:
    """One row per DKIM-Signature: d, s, ok, covers (signed header names), key bits, error."""
    lookup = txt_lookup(resolver)
    rows: list[dict[str, Any]] = []
    for idx, value in enumerate(signature_headers(raw)):
        try:
            tags = parse_tag_value(value)
        except InvalidTagValueList:
            tags = {}
        row: dict[str, Any] = {
            "d": tags.get(b"d", b"").decode("ascii", "replace").lower() or None,
            "s": tags.get(b"s", b"").decode("ascii", "replace") or None,
            "covers": [h.strip().lower() for h in tags.get(b"h", b"").decode("ascii", "replace").split(":")
                       if h.strip()],
            "ok": False, "bits": None, "error": None,
        }
        try:
            # RFC 8301 §3.2: keys under 1024 bits must not be accepted (dkimpy's minkey default).
            verifier = dkim.DKIM(raw, minkey=1024)
        except dkim.DKIMException as exc:  # the header section itself does not parse
            rows.append(row | {"error": str(exc) or type(exc).__name__})
            continue
        try:
            row["ok"] = bool(verifier.verify(idx=idx, dnsfunc=lookup))
            if not row["ok"]:
                row["error"] = (msg("signature or body hash does not match") if verifier.keysize else
                                msg("no usable key at {s}._domainkey.{d} (missing or revoked, RFC 6376 §6.1.2)",
                                    s=row["s"], d=row["d"]))
        except dkim.DKIMException as exc:
            row["error"] = str(exc) or type(exc).__name__
        except (ValueError, TypeError, IndexError) as exc:  # malformed keys reach dkimpy's parsers
            row["error"] = f"{type(exc).__name__}: {exc}"
        row["bits"] = verifier.keysize or None
        rows.append(row)
    return rows
