"""Offline verification of checkpoints, inclusion and consistency proofs (stdlib + cryptography).

Nothing here touches a database: give it the proof document and the ledger's public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consent_ledger.canonical import canonical_json
from consent_ledger.merkle import leaf_hash, node_hash


class ProofError(ValueError):
    """A proof, checkpoint or key that does not verify; the message says which part failed."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the raw 32-byte Ed25519 public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public_key(pem: bytes | str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; raises ProofError for anything else."""
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except (ValueError, TypeError) as exc:
        raise ProofError(f"the public key is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ProofError("the public key is not an Ed25519 key")
    return key


def checkpoint_message(size: int, root: str, time: str, kid: str) -> bytes:
    """The signed bytes: canonical JSON of {size, root, time, key_id}."""
    return canonical_json({"size": size, "root": root, "time": time, "key_id": kid})


def _hex32(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise ProofError(f"{what} is not 64 hex characters")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ProofError(f"{what} is not hex") from None


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{what} is not a non-negative integer")
    return value


def verify_checkpoint(cp: Any, public_key: Ed25519PublicKey) -> bytes:
    """Check a checkpoint's signature and key id; returns its root hash."""
    if not isinstance(cp, dict):
        raise ProofError("the checkpoint is not an object")
    size = _int(cp.get("size"), "checkpoint size")
    root = _hex32(cp.get("root"), "checkpoint root")
    when, kid, sig = cp.get("time"), cp.get("key_id"), cp.get("signature")
    if not isinstance(when, str) or not isinstance(kid, str) or not isinstance(sig, str):
        raise ProofError("the checkpoint lacks time, key_id or signature")
    if kid != key_id(public_key):
        raise ProofError("the checkpoint was signed by another key (key_id differs)")
    try:
        signature = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError("the checkpoint signature is not base64") from None
    try:
        public_key.verify(signature, checkpoint_message(size, cp["root"], when, kid))
    except InvalidSignature:
        raise ProofError("the checkpoint signature does not verify") from None
    return root


def root_from_inclusion_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root implied by a leaf hash and its audit path."""
    if index >= size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("the audit path is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the audit path is shorter than the tree needs")
    return r


def verify_inclusion(doc: Any, public_key_pem: bytes | str | None = None) -> None:
    """Check an inclusion proof file (INTERFACES.md); raises ProofError naming what fails.

    With ``public_key_pem`` the checkpoint must be signed by that key; without it, by the
    key the document carries (which only proves the document is self-consistent).
    """
    if not isinstance(doc, dict):
        raise ProofError("the proof is not a JSON object")
    pem = public_key_pem if public_key_pem is not None else doc.get("public_key")
    if not pem:
        raise ProofError("no public key to check the checkpoint against")
    public_key = load_public_key(pem)
    event = doc.get("event")
    if not isinstance(event, dict):
        raise ProofError("the proof has no event")
    index = _int(doc.get("leaf_index"), "leaf_index")
    size = _int(doc.get("tree_size"), "tree_size")
    if event.get("seq") != index + 1:
        raise ProofError("the event's seq does not match leaf_index + 1")
    try:
        computed = leaf_hash(canonical_json(event))
    except (TypeError, ValueError, UnicodeError) as exc:
        raise ProofError(f"the event cannot be canonicalised: {exc}") from None
    if computed != _hex32(doc.get("leaf_hash"), "leaf_hash"):
        raise ProofError("the event does not hash to leaf_hash (the event was changed)")
    raw_path = doc.get("audit_path")
    if not isinstance(raw_path, list):
        raise ProofError("audit_path is not a list")
    path = [_hex32(p, f"audit_path[{i}]") for i, p in enumerate(raw_path)]
    cp = doc.get("checkpoint")
    root = verify_checkpoint(cp, public_key)
    if cp["size"] != size:
        raise ProofError("the checkpoint size differs from tree_size")
    if root_from_inclusion_path(index, size, computed, path) != root:
        raise ProofError("the audit path does not lead to the checkpoint root")


def verify_consistency(doc: Any) -> None:
    """Check a consistency proof {first, second, first_root, second_root, path} (RFC 9162 §2.1.4.2)."""
    if not isinstance(doc, dict):
        raise ProofError("the proof is not a JSON object")
    first, second = _int(doc.get("first"), "first"), _int(doc.get("second"), "second")
    first_root = _hex32(doc.get("first_root"), "first_root")
    second_root = _hex32(doc.get("second_root"), "second_root")
    raw = doc.get("path")
    if not isinstance(raw, list):
        raise ProofError("path is not a list")
    path = [_hex32(p, f"path[{i}]") for i, p in enumerate(raw)]
    if first > second:
        raise ProofError("first must not exceed second")
    if first == 0:  # every tree extends the empty tree
        if path or first_root != hashlib.sha256(b"").digest():
            raise ProofError("from size 0 the path is empty and first_root is the empty-tree hash")
        return
    if first == second:
        if path or first_root != second_root:
            raise ProofError("equal sizes need an empty path and equal roots")
        return
    if not path:
        raise ProofError("the consistency path is empty")
    if first & (first - 1) == 0:
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency path is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency path is shorter than the trees need")
    if fr != first_root:
        raise ProofError("the path does not lead to first_root")
    if sr != second_root:
        raise ProofError("the path does not lead to second_root")
