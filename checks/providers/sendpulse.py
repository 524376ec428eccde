"""SendPulse email webhooks: a JSON array of events (sent each minute or per 100 events).

SendPulse gives no event id and no signature: the URL token authenticates, the content of an
event is its id.
"""

from __future__ import annotations

from checks.providers import PayloadError, ProviderEvent, content_id, json_body, short, unix_time

_KINDS = {"spam": "complaint", "unsubscribe": "unsubscribe", "delivered": "delivered", "open": "opened",
          "redirect": "clicked", "hard_bounce": "hard_bounce", "hard_bounces": "hard_bounce",
          "soft_bounce": "soft_bounce", "soft_bounces": "soft_bounce"}


def parse(body: bytes) -> list[ProviderEvent]:
    """The events of one SendPulse webhook POST."""
    data = json_body(body)
    if not isinstance(data, list):
        raise PayloadError("SendPulse posts a JSON array of events")
    out = []
    for i, ev in enumerate(data):
        if not isinstance(ev, dict):
            raise PayloadError(f"event {i}: not an object")
        email, name = ev.get("email"), ev.get("event")
        if not isinstance(email, str) or not email.strip() or not isinstance(name, str):
            raise PayloadError(f"event {i}: needs 'email' and 'event'")
        out.append(ProviderEvent(
            kind=_KINDS.get(name, "other"), provider_type=name, recipient=email.strip(),
            event_id=content_id(ev), occurred_at=unix_time(ev.get("timestamp"), f"event {i}: timestamp"),
            esp_campaign=short(ev.get("task_id"), 200),
            reason=short(ev.get("reason") or ("all lists" if str(ev.get("from_all")) == "1" else None))))
    return out
