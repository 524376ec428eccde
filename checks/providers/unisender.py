"""Unisender Go (UniOne) webhooks: ``{"auth", "events_by_user": [{"events": [...]}]}``.

``auth`` is the MD5 of the body as sent with the API key written in place of the auth value;
events carry no id, so an event's content is its id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from checks.providers import (
    PayloadError,
    ProviderEvent,
    SignatureError,
    campaign_number,
    content_id,
    json_body,
    short,
    utc_text_time,
)

_KINDS = {"sent": "sent", "delivered": "delivered", "opened": "opened", "clicked": "clicked",
          "unsubscribed": "unsubscribe", "soft_bounced": "soft_bounce", "hard_bounced": "hard_bounce",
          "spam": "complaint"}


def verify_auth(api_key: str, body: bytes) -> None:
    """Raise SignatureError unless the body's ``auth`` is MD5(body with the API key in its place)."""
    try:
        auth = json.loads(body.decode("utf-8")).get("auth")
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise SignatureError("no readable 'auth' value") from None
    if not isinstance(auth, str) or not auth:
        raise SignatureError("no 'auth' value")
    text = body.decode("utf-8")
    quoted = json.dumps(auth)
    if quoted not in text:
        raise SignatureError("the 'auth' value is not written as a plain JSON string")
    expected = hashlib.md5(text.replace(quoted, json.dumps(api_key), 1).encode("utf-8"),  # noqa: S324 - UniOne's scheme
                           usedforsecurity=False).hexdigest()
    if not hmac.compare_digest(expected, auth.lower()):
        raise SignatureError("the 'auth' MD5 does not match the body and API key")


def sign(api_key: str, payload: dict) -> bytes:
    """A body as UniOne sends it: ``payload`` with ``auth`` computed (for tests and benches)."""
    placeholder = json.dumps({**payload, "auth": api_key}, ensure_ascii=False)
    auth = hashlib.md5(placeholder.encode("utf-8"), usedforsecurity=False).hexdigest()  # noqa: S324
    return placeholder.replace(json.dumps(api_key), json.dumps(auth), 1).encode("utf-8")


def raw_events(body: bytes) -> list[tuple[dict[str, Any], datetime]]:
    """The ``event_data`` of each recipient event of one UniOne POST with its time (spam-block
    notices skipped), checked (PayloadError says what is wrong)."""
    data = json_body(body)
    users = data.get("events_by_user") if isinstance(data, dict) else None
    if not isinstance(users, list):
        raise PayloadError("UniOne posts an object with an 'events_by_user' array")
    out = []
    for u, user in enumerate(users):
        events = user.get("events") if isinstance(user, dict) else None
        if not isinstance(events, list):
            raise PayloadError(f"events_by_user[{u}]: needs an 'events' array")
        for i, ev in enumerate(events):
            if not isinstance(ev, dict) or not isinstance(ev.get("event_data"), dict):
                raise PayloadError(f"events_by_user[{u}].events[{i}]: needs 'event_name' and 'event_data'")
            if ev.get("event_name") != "transactional_email_status":
                continue
            d = ev["event_data"]
            email, status = d.get("email"), d.get("status")
            if not isinstance(email, str) or not email.strip() or not isinstance(status, str):
                raise PayloadError(f"events_by_user[{u}].events[{i}]: needs 'email' and 'status'")
            try:
                out.append((d, utc_text_time(d.get("event_time"), "event_time")))
            except PayloadError as exc:
                raise PayloadError(f"events_by_user[{u}].events[{i}]: {exc}") from None
    return out


def parse(body: bytes) -> list[ProviderEvent]:
    """The recipient events of one UniOne webhook POST (spam-block notices are skipped)."""
    out = []
    for d, occurred_at in raw_events(body):  # checked there: nothing below refuses
        status = d["status"]
        meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
        info = d.get("delivery_info") if isinstance(d.get("delivery_info"), dict) else {}
        out.append(ProviderEvent(
            kind=_KINDS.get(status, "other"), provider_type=status, recipient=d["email"].strip(),
            event_id=content_id(d), occurred_at=occurred_at,
            campaign_id=campaign_number(meta.get("auditor_campaign")),
            esp_campaign=short(d.get("job_id"), 200),
            reason=short(info.get("destination_response") or info.get("delivery_status"))))
    return out
