"""Size of the HTML part: Gmail clips a message whose HTML is over about 102 KB."""

from __future__ import annotations

# Gmail shows "[Message clipped]" past 102 KB of HTML; what follows (often the unsubscribe
# link and the advertiser's details) is hidden behind a click.
GMAIL_CLIP_BYTES = 102 * 1024


def clipped(html_bytes: int) -> bool:
    """True when Gmail would clip HTML of this many bytes."""
    return html_bytes > GMAIL_CLIP_BYTES


def beyond_clip(html: str, needle: str) -> bool:
    """True when ``needle`` first appears after the clipping point of ``html``."""
    at = html.encode("utf-8").find(needle.encode("utf-8"))
    return at > GMAIL_CLIP_BYTES
