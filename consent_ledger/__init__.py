"""The consent ledger: append-only, Merkle-hashed, signed, provable and erasable. No Flask.

Names are imported lazily (PEP 562) so that ``consent_ledger.proofs`` loads with only the
standard library and ``cryptography``: an auditor can verify proofs without the rest.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NAMES = {
    "Appended": "events", "ConsentState": "events", "EventIn": "events", "Evidence": "events",
    "InvalidEvent": "events", "VerifyReport": "events",
    "InvalidIdentifier": "identifiers", "normalise_identifier": "identifiers", "is_pseudonym": "identifiers",
    "Ledger": "ledger", "LedgerError": "ledger", "Prepared": "ledger",
    "ProofError": "proofs", "verify_consistency": "proofs", "verify_inclusion": "proofs",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'consent_ledger' has no attribute {name!r}")
    value = getattr(import_module(f"consent_ledger.{module}"), name)
    globals()[name] = value
    return value
