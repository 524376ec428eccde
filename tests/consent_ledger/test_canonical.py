"""The ledger's canonical JSON is RFC 8785 (checked against the rfc8785 package)."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from consent_ledger.canonical import canonical_event, canonical_json

scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(
    st.characters(blacklist_categories=("Cs",)), max_size=30)
ascii_keys = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10)
docs = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ascii_keys, inner, max_size=5),
                    max_leaves=20)


@settings(max_examples=500, deadline=None)
@given(docs)
def test_canonical_json_equals_rfc8785(doc):
    assert canonical_json(doc) == rfc8785.dumps(doc)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(ascii_keys, scalars, max_size=8))
def test_event_fast_path_equals_rfc8785(doc):
    assert canonical_event(doc) == rfc8785.dumps(doc)


def test_floats_and_non_ascii_keys_go_through_rfc8785():
    doc = {"ü": 1.5, "a": [1e21, 0.1], "\U0001f600": "x", "\ue000": "y"}
    assert canonical_json(doc) == rfc8785.dumps(doc)
