"""SendPulse email webhooks: a JSON array of events (sent each minute or per 100 events).

SendPulse gives no event id and no signature: the URL token authenticates, the content of an
event is its id.
"""

from __future__ import annotations

from typing import Any

from checks.providers import ProviderEvent, content_id, json_array_events, short, unix_time

_KINDS = {"spam": "complaint", "unsubscribe": "unsubscribe", "delivered": "delivered", "open": "opened",
          "redirect": "clicked", "hard_bounce": "hard_bounce", "hard_bounces": "hard_bounce",
          "soft_bounce": "soft_bounce", "soft_bounces": "soft_bounce"}


def raw_events(body: bytes) -> list[dict[str, Any]]:
    """The events of one SendPulse webhook POST as sent, checked (PayloadError says what is wrong)."""
    return json_array_events(body, "SendPulse")


def parse(body: bytes) -> list[ProviderEvent]:
    """The events of one SendPulse webhook POST."""
    out = []
    for ev in raw_events(body):  # checked there: nothing below refuses
        name = ev["event"]
        out.append(ProviderEvent(
            kind=_KINDS.get(name, "other"), provider_type=name, recipient=ev["email"].strip(),
            event_id=content_id(ev), occurred_at=unix_time(ev["timestamp"], "timestamp"),
            esp_campaign=short(ev.get("task_id"), 200),
            reason=short(ev.get("reason") or ("all lists" if str(ev.get("from_all")) == "1" else None))))
    return out
