"""DMARC identifier alignment (RFC 7489 §3.1), relaxed: organisational domains compared."""

from __future__ import annotations

from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@lru_cache(maxsize=4096)
def organisational_domain(domain: str) -> str:
    """The registrable domain (RFC 7489 §3.2, public suffix list); the name itself if it is a suffix."""
    name = domain.lower().rstrip(".")
    return _psl().privatesuffix(name) or name


def aligned(a: str | None, b: str | None) -> bool:
    """Relaxed alignment: both names share an organisational domain."""
    if not a or not b:
        return False
    return organisational_domain(a) == organisational_domain(b)
