"""DKIM keys per selector (RFC 6376 §3.6; key sizes RFC 8301 §3.2, ed25519 RFC 8463)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import dns.exception
import dns.name
import dns.resolver
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from checks.catalogue import finding
from checks.dns_auth import CheckResult, LookupFailed, lookup_failed, txt_records
from checks.findings import Finding
from checks.i18n import msg


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
    hashes: tuple[str, ...] = ()  # h= (RFC 6376 §3.6.1); empty means every algorithm

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self) | {"hashes": list(self.hashes)}


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
    hashes = tuple(h for h in tags.get("h", "").lower().split(":") if h)
    if not tags["p"]:
        return DkimKey(record, key_type, None, True, testing, hashes)
    try:
        raw = base64.b64decode(tags["p"], validate=True)
    except (binascii.Error, ValueError):
        raise DkimKeyError("p= is not base64") from None
    if key_type == "ed25519":
        if len(raw) != 32:
            raise DkimKeyError(f"an ed25519 key is 32 bytes, this one is {len(raw)}")
        return DkimKey(record, key_type, 256, False, testing, hashes)
    if key_type != "rsa":
        raise DkimKeyError(f"unknown key type k={key_type}")
    try:
        key = load_der_public_key(raw)
    except ValueError:
        raise DkimKeyError("p= is not an RSA public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise DkimKeyError("k=rsa but p= is not an RSA key")
    return DkimKey(record, key_type, key.key_size, False, testing, hashes)


def key_findings(key: DkimKey, subject: str) -> list[Finding]:
    """Findings for a parsed key."""
    found: list[Finding] = []
    if key.revoked:
        found.append(finding("DKIM-KEY-REVOKED", msg("p= is empty: signatures with this selector fail"),
                             subject=subject))
    elif key.key_type == "rsa" and key.bits is not None and key.bits < 1024:
        found.append(finding("DKIM-KEY-WEAK", msg("RSA {bits} bits: verifiers must reject keys under 1024",
                                                  bits=key.bits), subject=subject, evidence={"bits": key.bits}))
    elif key.key_type == "rsa" and key.bits is not None and key.bits < 2048:
        found.append(finding("DKIM-KEY-SHORT", msg("RSA {bits} bits: use 2048", bits=key.bits), subject=subject,
                             evidence={"bits": key.bits}))
    if key.hashes and set(key.hashes) <= {"sha1"}:
        # RFC 8301 §3.1: rsa-sha1 must not be used for signing or verifying
        found.append(finding("DKIM-KEY-SHA1", msg("h={hashes}: the key may only sign with SHA-1, which "
                                                  "verifiers reject", hashes=":".join(key.hashes)),
                             subject=subject, evidence={"h": list(key.hashes)}))
    if key.testing:
        found.append(finding("DKIM-TEST-MODE", msg("t=y: verifiers may treat failures as unsigned"),
                             subject=subject))
    return found


def _is_key(record: str) -> bool:
    compact = record.replace(" ", "")
    return "p=" in compact or compact.startswith("v=DKIM1")


def get_dkim_record(domain: str, selector: str, *, resolver: dns.resolver.Resolver) -> str | None:
    """The key record at ``selector._domainkey.domain`` (None if absent); raises LookupFailed."""
    keys = [r for r in txt_records(f"{selector}._domainkey.{domain}", resolver=resolver) or [] if _is_key(r)]
    return keys[0] if keys else None


def dangling_target(name: str, *, resolver: dns.resolver.Resolver) -> str | None:
    """The name a CNAME chain from ``name`` ends at when that name does not exist (NXDOMAIN)."""
    try:
        resolver.resolve(name, "TXT")
    except dns.resolver.NXDOMAIN as exc:
        target = exc.canonical_name
        return target.to_text(omit_final_dot=True) if target != dns.name.from_text(name) else None
    except dns.exception.DNSException:
        return None
    return None


def check_selector(domain: str, selector: str, *, resolver: dns.resolver.Resolver) -> tuple[Any, list[Finding]]:
    """One selector, judged on its own answer: its key record and findings."""
    name = f"{selector}._domainkey.{domain}"
    subject = f"dkim:{name}"
    try:
        record = get_dkim_record(domain, selector, resolver=resolver)
    except LookupFailed as exc:
        return {"error": exc.error}, [lookup_failed("dkim", exc, subject)]
    if record is None:
        target = dangling_target(name, resolver=resolver)
        if target:
            # RFC 6376 §3.6.2.1: whoever registers the target publishes the key verifiers trust
            return {"dangling": target}, [finding("DKIM-SELECTOR-DANGLING", msg(
                "{name} is a CNAME to {target}, which does not exist: whoever registers it can sign as {domain}",
                name=name, target=target, domain=domain), subject=subject, evidence={"target": target})]
        return None, [finding("DKIM-KEY-MISSING", msg("no key record at {name}", name=name), subject=subject)]
    try:
        key = parse_dkim_key(record)
    except DkimKeyError as exc:
        return {"record": record, "error": str(exc)}, [finding(
            "DKIM-KEY-MISSING", msg("the key record does not parse: {error}", error=str(exc)), subject=subject)]
    return key.to_dict(), key_findings(key, subject)


def check_dkim(domain: str, selectors: Iterable[str], *, resolver: dns.resolver.Resolver) -> CheckResult:
    """Each declared selector's key: present, not revoked, strong enough, not in test mode."""
    records: dict[str, Any] = {}
    found: list[Finding] = []
    for selector in selectors:
        records[selector], more = check_selector(domain, selector, resolver=resolver)
        found += more
    return CheckResult(records, found)
