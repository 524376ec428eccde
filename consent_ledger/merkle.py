"""RFC 9162 §2.1 Merkle tree arithmetic over stored complete subtrees (no storage here).

A node is addressed by ``(level, index)``: it is the root of the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``. It becomes complete when its last leaf is
appended, so the ledger stores each node once, in the row of that leaf (seq = last leaf + 1),
and every proof reads O(log n) stored nodes instead of rehashing leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

Node = tuple[int, int]  # (level, index)
Fold = list[Node]       # perfect subtrees, left to right, whose RFC 9162 fold is one hash

_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf) (RFC 9162 §2.1.1)."""
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right) (RFC 9162 §2.1.1)."""
    return _sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = _sha256(b"").digest()  # MTH({}) (RFC 9162 §2.1.1)


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_ranges(start: int, end: int) -> Fold:
    """The aligned perfect subtrees covering ``[start, end)``, left to right."""
    out: Fold = []
    while start < end:
        level = ((start & -start).bit_length() - 1) if start else 64
        while (1 << level) > end - start:
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def fold(hashes: list[bytes]) -> bytes:
    """The root of consecutive perfect subtrees (largest first): fold from the right."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_plan(index: int, size: int) -> list[Fold]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1 as stored-node folds, leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[Fold] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(perfect_ranges(start + k, end))
            end = start + k
        else:
            path.append(perfect_ranges(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_plan(first: int, second: int) -> list[Fold]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1 as stored-node folds."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    path: list[Fold] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            path.append(perfect_ranges(start + k, end))
            end = start + k
        else:
            path.append(perfect_ranges(start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        path.append(perfect_ranges(start, end))
    path.reverse()
    return path


def resolve(plan: Iterable[Fold], get: Callable[[list[Node]], dict[Node, bytes]]) -> list[bytes]:
    """Hashes of a plan, fetching every stored node it names in one call of ``get``."""
    plan = list(plan)
    nodes = get(sorted({n for f in plan for n in f}))
    return [fold([nodes[n] for n in f]) for f in plan]


def frontier_nodes(size: int) -> Fold:
    """The perfect subtrees of a tree of ``size`` leaves, left to right."""
    return perfect_ranges(0, size)


class Frontier:
    """The right edge of the tree while appending: one hash per perfect subtree of the size."""

    __slots__ = ("levels", "hashes", "size")

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        self.size = size
        self.levels = [lvl for lvl, _ in frontier_nodes(size)]
        self.hashes = list(hashes or [])
        if len(self.hashes) != len(self.levels):
            raise ValueError("frontier hashes do not match the tree size")

    def copy(self) -> Frontier:
        """An independent copy."""
        return Frontier(self.size, self.hashes)

    def append(self, leaf: bytes) -> list[bytes]:
        """Add a leaf hash; returns the nodes it completes, level 1 upwards."""
        levels, hashes = self.levels, self.hashes
        levels.append(0)
        hashes.append(leaf)
        made = []
        while len(levels) > 1 and levels[-1] == levels[-2]:
            right = hashes.pop()
            lvl = levels.pop()
            h = node_hash(hashes[-1], right)
            hashes[-1] = h
            levels[-1] = lvl + 1
            made.append(h)
        self.size += 1
        return made

    def root(self) -> bytes:
        """MTH of the leaves so far."""
        return fold(self.hashes) if self.hashes else EMPTY_ROOT


def node_location(node: Node) -> tuple[int, int]:
    """Where a node is stored: (seq of the row that completed it, level); seq counts from 1."""
    level, index = node
    return (index + 1) << level, level
