"""Which roles open which pages: the tuples given to ``@requires_role`` and shown in the menu."""

from __future__ import annotations

from auditor.accounts.services import Principal

# Admins always pass ``requires_role``; these list the other roles.
REVIEWERS = ("legal", "security")
CONSENT_READERS = ("legal",)  # security holds no consent:read (data minimisation, GDPR art. 5(1)(c))
LEDGER_STATUS = ("legal", "security")
DOMAIN_READERS = ("legal", "security")
DOMAIN_WRITERS = ("security",)
ADMINS = ("admin",)
ERASERS = ("legal",)  # the DPO answers erasure requests (152-FZ art. 21, GDPR art. 17)
EVERYONE = ("admin", "legal", "security", "sender")

PAGES: dict[str, tuple[str, ...]] = {
    "campaigns": REVIEWERS, "ledger": CONSENT_READERS, "ledger_status": LEDGER_STATUS,
    "erase": ERASERS, "domains": DOMAIN_READERS, "domains_write": DOMAIN_WRITERS,
    "audit_log": REVIEWERS, "admin": ADMINS,
}


def can(principal: Principal | None, page: str) -> bool:
    """Whether ``principal`` may open ``page`` (a key of PAGES)."""
    if principal is None:
        return False
    return principal.role == "admin" or principal.role in PAGES[page]


def _words() -> None:
    """Words shown from data (roles, consent states), listed so that pybabel extracts them."""
    from flask_babel import lazy_gettext as _l

    _l("admin"), _l("legal"), _l("security"), _l("sender")
    _l("granted"), _l("confirmed"), _l("withdrawn"), _l("erased")
