"""The tree arithmetic matches RFC 9162's recursive definitions for every small size."""

from __future__ import annotations

import hashlib

import pytest

from consent_ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_plan,
    fold,
    frontier_nodes,
    inclusion_plan,
    leaf_hash,
    node_hash,
    perfect_ranges,
    resolve,
    split,
)
from consent_ledger.proofs import ProofError, root_from_inclusion_path, verify_consistency


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, recursively."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH."""
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = split(n)
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


LEAVES = [leaf_hash(b"event %d" % i) for i in range(70)]


class Store:
    """Nodes as the ledger stores them: each completed in the row of its last leaf."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.rows: dict[int, bytes] = {}
        f = Frontier()
        for i, lh in enumerate(leaves):
            self.rows[i + 1] = b"".join(f.append(lh))

    def get(self, nodes):
        out = {}
        for level, index in nodes:
            seq = (index + 1) << level
            assert seq <= len(self.leaves), "a plan asked for a node that is not complete"
            out[(level, index)] = self.leaves[seq - 1] if level == 0 else self.rows[seq][32 * (level - 1):32 * level]
        return out


STORE = Store(LEAVES)


def test_frontier_root_equals_recursive_mth_for_every_size():
    f = Frontier()
    assert f.root() == EMPTY_ROOT == hashlib.sha256(b"").digest()
    for n, lh in enumerate(LEAVES, 1):
        f.append(lh)
        assert f.root() == mth(LEAVES[:n])
        assert resolve([frontier_nodes(n)], STORE.get)[0] == mth(LEAVES[:n])


def test_perfect_ranges_cover_the_range_with_aligned_subtrees():
    for start in range(0, 20):
        for end in range(start + 1, 40):
            covered = []
            for level, index in perfect_ranges(start, end):
                covered.extend(range(index << level, (index + 1) << level))
            assert covered == list(range(start, end))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 64, 70])
def test_inclusion_paths_equal_rfc_path_and_verify(n):
    for m in range(n):
        got = resolve(inclusion_plan(m, n), STORE.get)
        assert got == path(m, LEAVES[:n])
        assert root_from_inclusion_path(m, n, LEAVES[m], got) == mth(LEAVES[:n])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 9, 13, 16, 17, 33, 70])
def test_consistency_paths_equal_rfc_proof_and_verify(n):
    for m in range(1, n):
        got = resolve(consistency_plan(m, n), STORE.get)
        assert got == subproof(m, LEAVES[:n], True)
        verify_consistency({"first": m, "second": n, "first_root": mth(LEAVES[:m]).hex(),
                            "second_root": mth(LEAVES[:n]).hex(), "path": [h.hex() for h in got]})


def test_consistency_fails_against_a_different_history():
    other = LEAVES[:5] + [leaf_hash(b"forged")] + LEAVES[6:12]
    good = resolve(consistency_plan(7, 12), STORE.get)
    with pytest.raises(ProofError):
        verify_consistency({"first": 7, "second": 12, "first_root": mth(other[:7]).hex(),
                            "second_root": mth(LEAVES[:12]).hex(), "path": [h.hex() for h in good]})


def test_fold_is_right_associative():
    a, b, c = LEAVES[:3]
    assert fold([a, b, c]) == node_hash(a, node_hash(b, c))
