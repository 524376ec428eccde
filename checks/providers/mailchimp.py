"""Mailchimp list webhooks: form-encoded ``type``, ``fired_at`` and ``data[...]`` fields.

Mailchimp signs nothing: the secret is the URL's token. ``cleaned`` with reason ``abuse`` is a
complaint (the feedback loop), with reason ``hard`` a hard bounce. Events carry no id, so the
content of the form is the id (a retried POST repeats it byte for byte).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from checks.providers import PayloadError, ProviderEvent, content_id, short, utc_text_time


def _kind(type_: str, reason: str) -> str:
    if type_ == "unsubscribe":
        return "unsubscribe"
    if type_ == "cleaned":
        return "complaint" if reason == "abuse" else "hard_bounce"
    return "other"


def raw_events(body: bytes) -> list[tuple[list[tuple[str, str]], datetime]]:
    """The form fields of the one event of a Mailchimp POST with its time, checked (PayloadError
    says what is wrong)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"not a form-encoded Mailchimp webhook: {exc}") from None
    form = dict(pairs)
    if not form.get("type", "") or not _email(form).strip():
        raise PayloadError("a Mailchimp webhook needs 'type' and 'data[email]'")
    return [(pairs, utc_text_time(form.get("fired_at"), "fired_at"))]


def _email(form: dict[str, str]) -> str:
    return form.get("data[email]") or form.get("data[new_email]") or ""


def parse(body: bytes) -> list[ProviderEvent]:
    """The one event of a Mailchimp webhook POST."""
    out = []
    for pairs, occurred_at in raw_events(body):  # checked there: nothing below refuses
        form = dict(pairs)
        type_ = form["type"]
        reason = (form.get("data[reason]") or "").strip().lower()
        out.append(ProviderEvent(
            kind=_kind(type_, reason), provider_type=type_, recipient=_email(form).strip(),
            event_id=content_id(sorted(pairs)), occurred_at=occurred_at,
            esp_campaign=short(form.get("data[campaign_id]"), 200),
            reason=short(reason or form.get("data[action]"))))
    return out
