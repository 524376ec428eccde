"""A message preview that loads nothing remote: HTML rewritten for a sandboxed srcdoc iframe."""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

# Remote images and stylesheets are tracking pixels and beacons: opening a message must not
# tell the sender (or anyone) that a reviewer looked at it.
_DROP_ELEMENTS = {"script", "link", "base", "object", "embed", "iframe", "frame", "frameset", "applet",
                  "form", "audio", "video", "source", "track", "portal"}
_URL_ATTRS = {"src", "srcset", "background", "poster", "lowsrc", "dynsrc", "href", "action", "formaction",
              "xlink:href", "data", "cite", "longdesc", "usemap", "ping"}
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.I)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
         "track", "wbr"}
# Belt and braces: even if a URL slipped through, the frame's own policy refuses to fetch it.
FRAME_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"


def _is_local(url: str) -> bool:
    return url.strip().lower().startswith(("data:", "cid:", "#"))


def clean_css(css: str) -> tuple[str, int]:
    """CSS with @import removed and every non-data url() blanked; returns (css, urls blocked)."""
    blocked = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal blocked
        if m.group(2).strip().lower().startswith("data:"):
            return m.group(0)
        blocked += 1
        return "url()"

    css, imports = _CSS_IMPORT.subn("", css)
    return _CSS_URL.sub(repl, css), blocked + imports


class _Rewriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skip = 0
        self.in_style = False
        self.blocked = 0

    def _attrs(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        parts = []
        for name, value in attrs:
            name = name.lower()
            value = value or ""
            if name.startswith("on") or name == "srcdoc":
                continue
            if name == "style":
                value, n = clean_css(value)
                self.blocked += n
            elif name in _URL_ATTRS and not _is_local(value):
                if name == "href" and tag == "a":
                    parts.append(f' title="{html.escape(value)}"')  # show the target, do not follow it
                    continue
                self.blocked += 1
                continue
            parts.append(f' {name}="{html.escape(value)}"')
        return "".join(parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_ELEMENTS:
            self.blocked += tag in ("link", "script", "iframe", "object", "embed")
            if tag not in _VOID:
                self.skip += 1
            return
        if tag == "meta" and any(k.lower() == "http-equiv" for k, _v in attrs):
            return
        if self.skip:
            return
        self.in_style = tag == "style"
        self.out.append(f"<{tag}{self._attrs(tag, attrs)}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _DROP_ELEMENTS and tag not in _VOID:
            self.skip -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_ELEMENTS:
            if tag not in _VOID and self.skip:
                self.skip -= 1
            return
        if self.skip:
            return
        if tag == "style":
            self.in_style = False
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.in_style:
            data, n = clean_css(data)
            self.blocked += n
            self.out.append(data)
        else:
            self.out.append(html.escape(data, quote=False))

    def handle_entityref(self, name: str) -> None:
        if not self.skip:
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self.skip:
            self.out.append(f"&#{name};")


def sanitise_html(source: str) -> tuple[str, int]:
    """HTML safe to show in a sandboxed frame; returns (html, remote references removed)."""
    parser = _Rewriter()
    parser.feed(source)
    parser.close()
    return "".join(parser.out), parser.blocked


@dataclass(frozen=True)
class Preview:
    """What the campaign page shows of the message."""

    subject: str
    srcdoc: str | None
    text: str | None
    blocked: int


def _parts_of_raw(raw: str) -> tuple[str, str | None, str | None]:
    msg = email.message_from_string(raw, policy=email.policy.default)
    body_html = msg.get_body(("html",))
    body_text = msg.get_body(("plain",))
    return (str(msg.get("Subject", "")), body_html.get_content() if body_html else None,
            body_text.get_content() if body_text else None)


def preview_of(message: dict[str, Any]) -> Preview:
    """The preview of a campaign document's ``message`` (parts or raw MIME)."""
    subject, body_html, text = message.get("subject") or "", message.get("html"), message.get("text")
    if message.get("raw"):
        try:
            subject, body_html, text = _parts_of_raw(message["raw"])
        except (ValueError, LookupError, TypeError):
            text = message["raw"]
    srcdoc, blocked = None, 0
    if body_html:
        body, blocked = sanitise_html(body_html)
        srcdoc = (f'<!doctype html><html><head><meta charset="utf-8">'
                  f'<meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">'
                  "<style>a[title]{color:#0645ad;text-decoration:underline;cursor:help}</style>"
                  f"</head><body>{body}</body></html>")
    return Preview(subject=subject, srcdoc=srcdoc, text=text, blocked=blocked)
