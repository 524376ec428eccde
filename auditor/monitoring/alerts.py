"""Alert delivery: one webhook POST and (when SMTP is configured) one email per change set.

A webhook body is signed when ``AUDITOR_ALERT_WEBHOOK_SECRET`` is set: ``X-Auditor-Timestamp`` is
the Unix time of the attempt and ``X-Auditor-Signature`` is ``v1=`` and the hex HMAC-SHA256, keyed
by the secret, of ``timestamp + "." + body`` (the timestamp lets a receiver refuse replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from auditor.config import Settings

WEBHOOK_TIMEOUT = 10.0
SMTP_TIMEOUT = 15.0
MAX_ATTEMPTS = 5
# Longer than any one delivery can last (webhook and SMTP timeouts), so a claim this old is dead.
STALE_CLAIM = timedelta(minutes=15)


class DeliveryError(Exception):
    """An alert could not be delivered; the message says why (no secrets)."""


def channels(settings: Settings) -> dict[str, str]:
    """Configured alert channels: ``{"webhook": url, "email": address}``."""
    out = {}
    if settings.alert_webhook:
        out["webhook"] = settings.alert_webhook
    if settings.smtp_url and settings.alert_email_to:
        out["email"] = settings.alert_email_to
    return out


def shown_destination(channel: str, destination: str) -> str:
    """Where an alert went, without credentials or path tokens (webhook URLs often embed secrets)."""
    if channel == "webhook":
        parts = urlsplit(destination)
        return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}/…"
    return destination


def payload(target: str, kind: str, result_id: int, checked_at: str, baseline: bool,
            changes: list[dict[str, Any]], summary: dict[str, Any]) -> dict[str, Any]:
    """The alert document (also readable by chat webhooks through its ``text``)."""
    head = f"Auditor: {'first check of' if baseline else 'posture changed for'} {kind} {target}"
    return {
        "event": "posture.baseline" if baseline else "posture.changed",
        "target": target, "kind": kind, "result_id": result_id, "checked_at": checked_at,
        "summary": {k: summary.get(k) for k in ("block", "warn", "info", "worst")},
        "changes": changes,
        "text": head + "\n" + "\n".join(f"- {c['text']}" for c in changes),
    }


SIGNATURE_VERSION = "v1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``timestamp.body`` keyed by ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def send_webhook(url: str, doc: dict[str, Any], timeout: float = WEBHOOK_TIMEOUT, *,
                 secret: str | None = None, now: float | None = None) -> None:
    """POST the alert as JSON (signed when ``secret`` is given); any non-2xx answer is a DeliveryError."""
    body = json.dumps(doc, ensure_ascii=False, default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "auditor-alerts/1"}
    if secret:
        stamp = str(int(time.time() if now is None else now))
        headers |= {"X-Auditor-Timestamp": stamp, "X-Auditor-Signature": signature(secret, stamp, body)}
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - admin-configured URL
            if not 200 <= resp.status < 300:
                raise DeliveryError(f"webhook answered {resp.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook answered {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"webhook unreachable: {reason}") from None


def send_email(smtp_url: str, to: str, doc: dict[str, Any], sender_host: str) -> None:
    """Send the alert by SMTP (``smtp://``, ``smtp+starttls://`` or ``smtps://user:pass@host:port``)."""
    parts = urlsplit(smtp_url)
    msg = EmailMessage()
    msg["From"] = f"Auditor <auditor@{sender_host}>"
    msg["To"] = to
    msg["Subject"] = doc["text"].splitlines()[0]
    msg.set_content(doc["text"] + "\n\n" + json.dumps(doc, ensure_ascii=False, indent=2, default=str))
    host = parts.hostname or "127.0.0.1"
    try:
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT)
        with client:
            if parts.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP delivery failed: {type(exc).__name__}: {exc}") from None
