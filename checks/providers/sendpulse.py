"""SendPulse email webhooks: a JSON array of events (sent each minute or per 100 events).

SendPulse gives no event id and no signature: the URL token authenticates, the content of an
event is its id.
"""

from __future__ import annotations

from checks.providers import ProviderEvent, content_id, json_array_events, short, unix_time

_KINDS = {"spam": "complaint", "unsubscribe": "unsubscribe", "delivered": "delivered", "open": "opened",
          "redirect": "clicked", "hard_bounce": "hard_bounce", "hard_bounces": "hard_bounce",
          "soft_bounce": "soft_bounce", "soft_bounces": "soft_bounce"}


def parse(body: bytes) -> list[ProviderEvent]:
    """The events of one SendPulse webhook POST."""
    out = []
    for i, ev, email, name in json_array_events(body, "SendPulse"):
        out.append(ProviderEvent(
            kind=_KINDS.get(name, "other"), provider_type=name, recipient=email,
            event_id=content_id(ev), occurred_at=unix_time(ev.get("timestamp"), f"event {i}: timestamp"),
            esp_campaign=short(ev.get("task_id"), 200),
            reason=short(ev.get("reason") or ("all lists" if str(ev.get("from_all")) == "1" else None))))
    return out
