"""Proofs verify offline, and fail when any byte of the event, the path or the checkpoint changes."""

from __future__ import annotations

import base64
import copy
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.db import make_engine
from consent_ledger import EventIn, Ledger, ProofError, verify_consistency, verify_inclusion
from consent_ledger.schema import create_schema
from tests.consent_ledger.conftest import grant

SIZE = 37


@pytest.fixture(scope="module")
def proven(tmp_path_factory) -> Ledger:
    """A 37-event ledger on SQLite, shared by the property tests (they only read)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('proofs') / 'l.db'}")
    create_schema(engine)
    ledger = Ledger(engine, os.urandom(32), Ed25519PrivateKey.generate(), checkpoint_every_events=10)
    ledger.append([grant(f"p{i}@example.org") for i in range(30)], "test")
    ledger.append([EventIn(type="withdrawn", subject=f"p{i}@example.org", channel="email", purpose="marketing",
                           reason="unsubscribed «Реклама» ✓") for i in range(7)], "test")
    yield ledger
    engine.dispose()


def _flip_hex(value: str, pos: int, delta: int) -> str:
    raw = bytearray(bytes.fromhex(value))
    raw[pos % len(raw)] ^= delta
    return raw.hex()


def _mutate_event(event: dict, pick: int, pos: int, delta: int) -> None:
    """Change one scalar of the event (one character, number or flag)."""
    leaves = []
    for k, v in event.items():
        if isinstance(v, dict):
            leaves.extend((v, kk) for kk in v)
        else:
            leaves.append((event, k))
    holder, key = leaves[pick % len(leaves)]
    value = holder[key]
    if isinstance(value, bool):
        holder[key] = not value
    elif isinstance(value, int):
        holder[key] = value + 1 + delta
    elif isinstance(value, str) and value:
        i = pos % len(value)
        holder[key] = value[:i] + chr((ord(value[i]) ^ delta) or 1) + value[i + 1:]
    else:
        holder[key] = "x"


ok = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
many = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
bits = st.integers(1, 255)


@ok
@given(st.integers(1, SIZE), st.integers(0, SIZE))
def test_every_inclusion_proof_verifies_offline(proven, seq, extra):
    size = min(SIZE, seq + extra)
    doc = proven.inclusion_proof(seq, size)
    assert doc["tree_size"] == size == doc["checkpoint"]["size"]
    verify_inclusion(doc, proven.public_key_pem)
    verify_inclusion(doc)  # with the key the document carries


@many
@given(st.integers(1, SIZE), st.integers(0, 50), st.integers(0, 500), bits)
def test_changing_the_event_breaks_the_proof(proven, seq, pick, pos, delta):
    doc = copy.deepcopy(proven.inclusion_proof(seq, SIZE))
    _mutate_event(doc["event"], pick, pos, delta)
    with pytest.raises(ProofError):
        verify_inclusion(doc, proven.public_key_pem)


@many
@given(st.integers(1, SIZE), st.integers(0, 10), st.integers(0, 31), bits)
def test_changing_the_path_breaks_the_proof(proven, seq, which, pos, delta):
    doc = copy.deepcopy(proven.inclusion_proof(seq, SIZE))
    path = doc["audit_path"]
    i = which % len(path)
    path[i] = _flip_hex(path[i], pos, delta)
    with pytest.raises(ProofError):
        verify_inclusion(doc, proven.public_key_pem)


@many
@given(st.integers(1, SIZE), st.sampled_from(["root", "signature", "time", "size", "key_id", "leaf_hash",
                                               "leaf_index", "tree_size", "drop", "extra"]),
       st.integers(0, 63), bits)
def test_changing_the_checkpoint_or_position_breaks_the_proof(proven, seq, part, pos, delta):
    doc = copy.deepcopy(proven.inclusion_proof(seq, SIZE))
    cp = doc["checkpoint"]
    if part == "root":
        cp["root"] = _flip_hex(cp["root"], pos, delta)
    elif part == "signature":
        sig = bytearray(base64.b64decode(cp["signature"]))
        sig[pos % len(sig)] ^= delta
        cp["signature"] = base64.b64encode(bytes(sig)).decode()
    elif part == "time":
        cp["time"] = cp["time"].replace("Z", "+00:00") if delta % 2 else "1999" + cp["time"][4:]
    elif part == "size":
        cp["size"] += 1 + delta
    elif part == "key_id":
        cp["key_id"] = _flip_hex(cp["key_id"], pos, delta)
    elif part == "leaf_hash":
        doc["leaf_hash"] = _flip_hex(doc["leaf_hash"], pos, delta)
    elif part == "leaf_index":
        doc["leaf_index"] = (doc["leaf_index"] + delta) % SIZE if (doc["leaf_index"] + delta) % SIZE != \
            doc["leaf_index"] else doc["leaf_index"] + 1
    elif part == "tree_size":
        doc["tree_size"] += delta
    elif part == "drop":
        doc["audit_path"].pop(pos % len(doc["audit_path"]))
    else:
        doc["audit_path"].append("00" * 32)
    with pytest.raises(ProofError):
        verify_inclusion(doc, proven.public_key_pem)


def test_a_proof_signed_by_another_key_is_refused(proven):
    doc = proven.inclusion_proof(3)
    other = Ed25519PrivateKey.generate().public_key()
    from cryptography.hazmat.primitives import serialization

    pem = other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ProofError, match="another key"):
        verify_inclusion(doc, pem)


@ok
@given(st.integers(0, SIZE), st.integers(0, SIZE))
def test_every_consistency_proof_verifies(proven, a, b):
    first, second = min(a, b), max(a, b)
    verify_consistency(proven.consistency_proof(first, second))


@many
@given(st.integers(1, SIZE - 1), st.integers(1, SIZE), st.integers(0, 40), st.integers(0, 31), bits)
def test_changing_a_consistency_proof_breaks_it(proven, first, extra, which, pos, delta):
    second = min(SIZE, first + extra)
    if second == first:
        second += 1
    doc = copy.deepcopy(proven.consistency_proof(first, second))
    targets = ["first_root", "second_root"] + [f"path{i}" for i in range(len(doc["path"]))]
    t = targets[which % len(targets)]
    if t.startswith("path"):
        i = int(t[4:])
        doc["path"][i] = _flip_hex(doc["path"][i], pos, delta)
    else:
        doc[t] = _flip_hex(doc[t], pos, delta)
    with pytest.raises(ProofError):
        verify_consistency(doc)


def test_malformed_proof_documents_raise_proof_error(proven):
    good = proven.inclusion_proof(5)
    for broken in ([], {"event": "x"}, {**good, "audit_path": "ab"}, {**good, "leaf_index": -1},
                   {**good, "leaf_hash": "zz"}, {**good, "checkpoint": None}):
        with pytest.raises(ProofError):
            verify_inclusion(broken, proven.public_key_pem)


def test_the_verifier_needs_only_the_standard_library_and_cryptography():
    import subprocess
    import sys

    code = ("import sys; import consent_ledger.proofs; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sqlalchemy', 'phonenumbers', 'email_validator', 'rfc8785', 'flask', 'auditor', 'pydantic'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
