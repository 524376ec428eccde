"""DKIM keys per selector (RFC 6376 §3.6; key sizes RFC 8301 §3.2, ed25519 RFC 8463)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import dns.resolver
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from checks.catalogue import finding
from checks.dns_auth import CheckResult, txt_records
from checks.findings import Finding


class DkimKeyError(ValueError):
    """The key record does not parse; the message says what is wrong."""


@dataclass(frozen=True)
class DkimKey:
    """A parsed key record."""

    record: str
    key_type: str
    bits: int | None
    revoked: bool
    testing: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self)


def parse_dkim_tags(record: str) -> dict[str, str]:
    """``tag=value`` pairs of a key record, whitespace inside values removed."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            tags[name.strip().lower()] = "".join(value.split())
    return tags


def parse_dkim_key(record: str) -> DkimKey:
    """Parse a DKIM key record: type, size, revoked (empty ``p=``), test mode (``t=y``)."""
    tags = parse_dkim_tags(record)
    if "p" not in tags:
        raise DkimKeyError("no p= tag")
    if tags.get("v", "DKIM1") != "DKIM1":
        raise DkimKeyError(f"v={tags['v']} is not DKIM1")
    key_type = tags.get("k", "rsa").lower()
    testing = "y" in tags.get("t", "").lower().split(":")
    if not tags["p"]:
        return DkimKey(record, key_type, None, True, testing)
    try:
        raw = base64.b64decode(tags["p"], validate=True)
    except (binascii.Error, ValueError):
        raise DkimKeyError("p= is not base64") from None
    if key_type == "ed25519":
        if len(raw) != 32:
            raise DkimKeyError(f"an ed25519 key is 32 bytes, this one is {len(raw)}")
        return DkimKey(record, key_type, 256, False, testing)
    if key_type != "rsa":
        raise DkimKeyError(f"unknown key type k={key_type}")
    try:
        key = load_der_public_key(raw)
    except ValueError:
        raise DkimKeyError("p= is not an RSA public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise DkimKeyError("k=rsa but p= is not an RSA key")
    return DkimKey(record, key_type, key.key_size, False, testing)


def key_findings(key: DkimKey, subject: str) -> list[Finding]:
    """Findings for a parsed key."""
    found: list[Finding] = []
    if key.revoked:
        found.append(finding("DKIM-KEY-REVOKED", "p= is empty: signatures with this selector fail",
                             subject=subject))
    elif key.key_type == "rsa" and key.bits is not None and key.bits < 1024:
        found.append(finding("DKIM-KEY-WEAK", f"RSA {key.bits} bits: verifiers must reject keys under 1024",
                             subject=subject, evidence={"bits": key.bits}))
    elif key.key_type == "rsa" and key.bits is not None and key.bits < 2048:
        found.append(finding("DKIM-KEY-SHORT", f"RSA {key.bits} bits: use 2048", subject=subject,
                             evidence={"bits": key.bits}))
    if key.testing:
        found.append(finding("DKIM-TEST-MODE", "t=y: verifiers may treat failures as unsigned", subject=subject))
    return found


def get_dkim_record(domain: str, selector: str, *, resolver: dns.resolver.Resolver) -> str | None:
    """The key record at ``selector._domainkey.domain`` (None if absent)."""
    records = txt_records(f"{selector}._domainkey.{domain}", resolver=resolver) or []
    keys = [r for r in records if "p=" in r.replace(" ", "") or r.replace(" ", "").startswith("v=DKIM1")]
    return keys[0] if keys else None


def check_dkim(domain: str, selectors: Iterable[str], *, resolver: dns.resolver.Resolver) -> CheckResult:
    """Each declared selector's key: present, not revoked, strong enough, not in test mode."""
    records: dict[str, Any] = {}
    found: list[Finding] = []
    for selector in selectors:
        subject = f"dkim:{selector}._domainkey.{domain}"
        record = get_dkim_record(domain, selector, resolver=resolver)
        if record is None:
            records[selector] = None
            found.append(finding("DKIM-KEY-MISSING", f"no key record at {selector}._domainkey.{domain}",
                                 subject=subject))
            continue
        try:
            key = parse_dkim_key(record)
        except DkimKeyError as exc:
            records[selector] = {"record": record, "error": str(exc)}
            found.append(finding("DKIM-KEY-MISSING", f"the key record does not parse: {exc}", subject=subject))
            continue
        records[selector] = key.to_dict()
        found += key_findings(key, subject)
    return CheckResult(records, found)
