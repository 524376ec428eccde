"""Unsubscribe: List-Unsubscribe (RFC 2369), one-click (RFC 8058) and the visible link or instruction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from checks.i18n import msg
from checks.message.links import Link

# RFC 8058 §3.1: the POST body a mailbox provider sends, and the only value of this header.
ONE_CLICK_VALUE = "List-Unsubscribe=One-Click"
# Wording a reader recognises as a way out (Russian and English).
UNSUBSCRIBE_WORDS = re.compile(
    r"unsubscrib|opt[\s-]?out|отпис|отказ\w*\s+от\s+(?:рассыл|получени|подписк)|"
    r"прекрат\w*\s+(?:рассыл|получени|подписк)|manage\s+(?:your\s+)?(?:subscription|preferences)", re.I)


@dataclass(frozen=True)
class OneClick:
    """What the headers offer, and what RFC 8058 still misses."""

    uris: list[str]
    https: list[str]
    post_ok: bool
    covered: bool
    problems: list[str]

    @property
    def ok(self) -> bool:
        """True when RFC 8058 one-click unsubscribe is fully in place."""
        return not self.problems


def list_unsubscribe_uris(value: str | None) -> list[str]:
    """The URIs in angle brackets of a List-Unsubscribe value (RFC 2369 §2)."""
    return [u.strip() for u in re.findall(r"<([^<>]*)>", value or "") if u.strip()]


def one_click(list_unsubscribe: str | None, post: str | None, signatures: list[dict[str, Any]],
              *, signed_at_send: bool = False) -> OneClick:
    """RFC 8058 §3.1 headers, and §4: both covered by a verifying DKIM signature (or to be, at send time)."""
    uris = list_unsubscribe_uris(list_unsubscribe)
    https = [u for u in uris if u.lower().startswith("https://")]
    post_ok = post is not None and post.strip() == ONE_CLICK_VALUE
    covered = any(s["ok"] and {"list-unsubscribe", "list-unsubscribe-post"} <= set(s["covers"])
                  for s in signatures)
    problems = []
    if list_unsubscribe is None:
        problems.append(msg("no List-Unsubscribe header"))
    elif not https:
        problems.append(msg("List-Unsubscribe has no https URI (RFC 8058 §3.1)"))
    if post is None:
        problems.append(msg("no List-Unsubscribe-Post: {value} header", value=ONE_CLICK_VALUE))
    elif not post_ok:
        problems.append(msg("List-Unsubscribe-Post is {value}, not {wanted}", value=repr(post.strip()), wanted=repr(ONE_CLICK_VALUE)))
    if not covered and not signed_at_send:
        problems.append(msg("List-Unsubscribe and List-Unsubscribe-Post are not both covered by a verifying "
                            "DKIM signature (RFC 8058 §4)"))
    return OneClick(uris, https, post_ok, covered, problems)


def visible_unsubscribe(links: list[Link], text: str) -> str | None:
    """Where the reader finds the way out: a visible link or a written instruction; None if nowhere."""
    for link in links:
        if link.visible and (UNSUBSCRIBE_WORDS.search(link.text) or UNSUBSCRIBE_WORDS.search(link.href)):
            return f"link {link.href}"
    m = UNSUBSCRIBE_WORDS.search(text)
    if m:
        line = next((ln for ln in text.splitlines() if m.group(0) in ln), m.group(0))
        return f"instruction: {line.strip()[:200]}"
    return None
