"""RFC 8785 (JCS) canonical JSON: a fast stdlib path for ledger documents, ``rfc8785`` otherwise."""

from __future__ import annotations

import json
from typing import Any

_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          allow_nan=False).encode
_MAX_SAFE = 2**53


def _simple(obj: Any) -> bool:
    """True when stdlib JSON output is already JCS: ASCII keys, no floats, safe integers."""
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if not (isinstance(k, str) and k.isascii()):
                    return False
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, bool) or node is None or isinstance(node, str):
            continue
        elif isinstance(node, int):
            if not -_MAX_SAFE < node < _MAX_SAFE:
                return False
        else:
            return False
    return True


def canonical_json(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``obj``.

    For ASCII keys, strings, booleans, null and integers below 2**53, Python's sorted compact
    JSON is byte-identical to JCS (RFC 8785 §3.2.2-3.2.3: same string escapes, UTF-16 key order
    equals code-point order for ASCII); anything else goes through the ``rfc8785`` package.
    """
    if _simple(obj):
        return _dumps(obj).encode("utf-8")
    import rfc8785

    return rfc8785.dumps(obj)


def canonical_event(event: dict[str, Any]) -> bytes:
    """Canonical bytes of a ledger event whose shape the ledger built (skips the shape walk)."""
    return _dumps(event).encode("utf-8")
