"""Background job of the report mailbox (inline or on Celery workers through ``auditor.jobs``)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from auditor.jobs import job


@job("dmarc.poll_mailbox")
def poll_report_mailbox(app: Flask) -> dict[str, Any] | None:
    """Read new reports from AUDITOR_DMARC_MAILBOX, if one is configured."""
    from auditor.dmarc.mailbox import mailbox_url, poll_mailbox

    url = mailbox_url(app)
    return poll_mailbox(app, url) if url else None
