"""Logging that never writes a secret, an address or a token."""

from __future__ import annotations

import logging
import re

# API keys, bearer tokens, unsubscribe/approval tokens in paths, email addresses, E.164 phones.
_PATTERNS = [
    (re.compile(r"aud_[A-Za-z0-9_\-]{8,}"), "aud_[redacted]"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"']+"), r"\1[redacted]"),
    (re.compile(r"(/u/)[^\s\"'?]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(approval_token\"?\s*[:=]\s*\"?)[^\s\"',}]+"), r"\1[redacted]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"\+\d{8,15}\b"), "[phone]"),
    # Any other long random-looking run (signed tokens, raw keys): base64url of 40+ characters
    # with both an upper-case letter and a digit. Hex digests and dotted module names survive.
    (re.compile(r"(?<![A-Za-z0-9_\-])(?=[A-Za-z0-9_\-]*[A-Z])(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{40,}"), "[token]"),
]


def redact(text: str) -> str:
    """``text`` with keys, tokens, addresses and phone numbers replaced."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not lose the record
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    return record


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and traceback) through ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


_installed = False


def install(level: str = "INFO") -> None:
    """Redact every log record of the process at creation, whatever handler writes it later."""
    global _installed
    root = logging.getLogger()
    if not root.handlers:
        # Libraries speak at WARNING and above; the service's own loggers at the configured level.
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        return _redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
