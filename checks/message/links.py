"""Links and visible text of a message body, read with a real HTML parser (html.parser)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from checks.message.alignment import organisational_domain

# Elements whose content a reader never sees.
_INVISIBLE = {"head", "style", "script", "template", "title", "noscript"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|"
                           r"max-height\s*:\s*0(?![.\d])|opacity\s*:\s*0(?![.\d])", re.I)
URL_IN_TEXT = re.compile(r"\bhttps?://[^\s<>\"')\]]+", re.I)
# A domain shown as link text: "www.bank.example", "bank.example/login" (not "v1.2" or "e.g.").
DOMAIN_IN_TEXT = re.compile(r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?![\w-])", re.I)

# Public URL shorteners (URIBL practice: links through them hide the destination).
SHORTENERS = frozenset({
    "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "v.gd", "buff.ly",
    "rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "clck.ru", "vk.cc", "u.to",
    "bit.do", "s.id", "lnkd.in", "soo.gd", "shorte.st", "adf.ly", "x.co", "trib.al", "qps.ru",
    "tiny.one", "shorturl.com", "surl.li", "go.gl",
})


@dataclass
class Link:
    """One hyperlink: its target, the text a reader sees, and the target's host."""

    href: str
    text: str
    domain: str | None
    visible: bool = True

    def to_dict(self) -> dict[str, str | bool | None]:
        """Plain dict for the report."""
        return {"href": self.href, "text": self.text, "domain": self.domain, "visible": self.visible}


def host_of(url: str) -> str | None:
    """Lower-case host of an http(s) URL, or None."""
    try:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https"):
            return None
        host = parts.hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


@dataclass
class _Frame:
    tag: str
    hidden: bool


class BodyReader(HTMLParser):
    """Collects ``<a href>`` links with their visible text, and the text a reader sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.chunks: list[str] = []
        self._stack: list[_Frame] = []
        self._link: tuple[str, list[str], bool] | None = None

    @property
    def hidden(self) -> bool:
        return bool(self._stack) and self._stack[-1].hidden

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        hidden = (self.hidden or tag in _INVISIBLE or "hidden" in a or a.get("aria-hidden") == "true"
                  or bool(_HIDDEN_STYLE.search(a.get("style", ""))))
        if tag in ("br", "p", "div", "tr", "li"):
            self.chunks.append("\n")
        if tag == "img" and a.get("alt") and not hidden:
            self._text(a["alt"])
        if tag not in _VOID:
            self._stack.append(_Frame(tag, hidden))
        if tag in ("a", "area") and a.get("href"):
            if tag == "area":
                self.links.append(Link(a["href"].strip(), a.get("alt", ""), host_of(a["href"]), not hidden))
            else:
                self._close_link()
                self._link = (a["href"].strip(), [], not hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close_link()
        # pop to the matching open tag; stray end tags are ignored (real mail is sloppy HTML)
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i].tag == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self._text(data)

    def _text(self, data: str) -> None:
        self.chunks.append(data)
        if self._link is not None:
            self._link[1].append(data)

    def _close_link(self) -> None:
        if self._link is not None:
            href, text, visible = self._link
            self.links.append(Link(href, " ".join("".join(text).split()), host_of(href), visible))
            self._link = None

    def close(self) -> None:
        super().close()
        self._close_link()

    @property
    def text(self) -> str:
        """Visible text, whitespace collapsed within lines."""
        lines = "".join(self.chunks).splitlines()
        return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def read_html(html: str) -> BodyReader:
    """Parse HTML; never raises on broken markup."""
    reader = BodyReader()
    reader.feed(html)
    reader.close()
    return reader


def text_links(text: str) -> list[Link]:
    """URLs written out in a text/plain body."""
    return [Link(m.group(0).rstrip(".,;:!?"), m.group(0).rstrip(".,;:!?"), host_of(m.group(0)))
            for m in URL_IN_TEXT.finditer(text)]


def shown_domains(text: str) -> list[str]:
    """Hosts a link's visible text shows (written URLs and bare domain names)."""
    hosts = [h for h in (host_of(m.group(0)) for m in URL_IN_TEXT.finditer(text)) if h]
    rest = URL_IN_TEXT.sub(" ", text)
    hosts += [m.group(1).lower() for m in DOMAIN_IN_TEXT.finditer(rest) if _plausible_tld(m.group(1))]
    return hosts


def _plausible_tld(name: str) -> bool:
    # "index.html" or "file.pdf" are file names, not domains
    return name.rsplit(".", 1)[-1].lower() not in {"html", "htm", "php", "pdf", "jpg", "png", "gif", "aspx", "asp"}


def mismatched(link: Link) -> str | None:
    """The other domain a link's text shows, when it differs from the href's (organisational) domain."""
    if not link.domain or not link.text:
        return None
    target = organisational_domain(link.domain)
    for shown in shown_domains(link.text):
        if organisational_domain(shown) != target:
            return shown
    return None


def is_shortener(domain: str | None) -> bool:
    """True when ``domain`` is (a subdomain of) a public URL shortener."""
    if not domain:
        return False
    return any(domain == s or domain.endswith("." + s) for s in SHORTENERS)
