"""The optional report mailbox (AUDITOR_DMARC_MAILBOX, ``imaps://user:pass@host[:port]/FOLDER``)."""

from __future__ import annotations

import imaplib
import ssl
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask

from auditor.dmarc.services import ingest
from auditor.services import services
from checks.dmarc_reports import MAX_INPUT_BYTES, ReportRefused

IMAP_TIMEOUT = 30.0
MAX_MESSAGES = 500


class MailboxError(Exception):
    """The mailbox cannot be read; the message says why (no credentials)."""


def mailbox_url(app: Flask) -> str | None:
    """The configured mailbox URL (``AUDITOR_DMARC_MAILBOX``, environment or .env), if any."""
    return services(app).settings.dmarc_mailbox or None


def poll_mailbox(app: Flask, url: str) -> dict[str, Any]:
    """Ingest every unseen message of the folder; each read message is flagged \\Seen."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise MailboxError("AUDITOR_DMARC_MAILBOX must be imap:// or imaps://user:password@host/FOLDER")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    out: dict[str, Any] = {"imported": 0, "duplicates": 0, "refused": []}
    try:
        if parts.scheme == "imaps":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(parts.hostname, parts.port or 993, timeout=IMAP_TIMEOUT,
                                                    ssl_context=ssl.create_default_context())
        else:
            conn = imaplib.IMAP4(parts.hostname, parts.port or 143, timeout=IMAP_TIMEOUT)
        with conn:
            conn.login(unquote(parts.username or ""), unquote(parts.password or ""))
            conn.select(folder)
            _, data = conn.uid("SEARCH", None, "UNSEEN")
            for uid in (data[0] or b"").split()[:MAX_MESSAGES]:
                _, fetched = conn.uid("FETCH", uid, "(RFC822)")
                raw = next((p[1] for p in fetched if isinstance(p, tuple)), b"")
                try:
                    if len(raw) > MAX_INPUT_BYTES:
                        raise ReportRefused(f"message exceeds the {MAX_INPUT_BYTES} byte cap")
                    result = ingest(app, raw, via="imap")
                    out["imported" if result.status == "imported" else "duplicates"] += 1
                except ReportRefused as exc:
                    out["refused"].append({"file": f"{folder}/{uid.decode()}", "reason": str(exc)})
                conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"mailbox {parts.hostname}: {type(exc).__name__}: {exc}") from None
    return out
