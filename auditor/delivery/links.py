"""Link a provider event to its campaign by the per-recipient unsubscribe URL it carries."""

from __future__ import annotations

import re
from typing import Any

# Auditor's unsubscribe pages are /u/<token> (auditor/public/unsubscribe.py).
_TOKEN = re.compile(r"/u/([A-Za-z0-9_.~-]{16,600})(?:[/?#]|$)")


def campaign_of_url(app: Any, url: str) -> int | None:
    """The campaign id of an Auditor unsubscribe URL whose token verifies, else None."""
    m = _TOKEN.search(url)
    if m is None:
        return None
    from auditor.gate.services import unsubscribe_signing_key
    from auditor.gate.tokens import TokenError, read_unsubscribe_token

    try:
        return read_unsubscribe_token(unsubscribe_signing_key(app), m.group(1)).campaign_id
    except TokenError:
        return None
