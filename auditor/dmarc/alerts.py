"""An alert when reports show a new unauthorised source sending as a domain (monitoring's channels)."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.db import dialect_insert, utcnow
from auditor.dmarc.models import UnauthorisedSource
from auditor.monitoring import alerts as alerting
from auditor.services import services
from checks.dmarc_reports import AggregateReport
from checks.dmarc_sources import SourceTotals, classify

log = logging.getLogger(__name__)


def new_unauthorised(s: Session, report: AggregateReport) -> list[dict[str, Any]]:
    """Sources of this report judged unauthorised and never seen so for the domain (remembered now)."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    for r in report.records:
        acc = sums[r.source_ip]
        acc[0] += r.count
        for i, flag in enumerate((r.spf_aligned, r.dkim_aligned, r.dmarc_pass, r.spf_pass, r.forwarded), 1):
            acc[i] += r.count if flag else 0
    bad = {ip: v[0] for ip, v in sums.items() if classify(SourceTotals(ip, *v)) == "unauthorised"}
    if not bad:
        return []
    u = UnauthorisedSource
    known = set(s.scalars(select(u.source_ip).where(u.domain == report.domain, u.source_ip.in_(list(bad)))))
    fresh = sorted(ip for ip in bad if ip not in known)
    if not fresh:
        return []
    # ON CONFLICT DO NOTHING ... RETURNING: of two reports naming the same new source at once,
    # only the one whose row went in alerts.
    stmt = dialect_insert(s)(u).on_conflict_do_nothing(index_elements=["domain", "source_ip"])
    now = utcnow()
    added = set(s.scalars(stmt.returning(u.source_ip),
                          [{"domain": report.domain, "source_ip": ip, "first_seen": now} for ip in fresh]))
    return [{"ip": ip, "messages": bad[ip], "reporter": report.org_name, "day": report.begin.date().isoformat()}
            for ip in fresh if ip in added]


def send_unauthorised_alert(app: Flask, domain: str, sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST / mail one alert through the configured monitoring channels; what each channel did."""
    if not sources:
        return []
    svc = services(app)
    lines = [f"- {x['ip']}: {x['messages']} messages failing SPF and DKIM alignment ({x['reporter']}, {x['day']})"
             for x in sources]
    doc = {"event": "dmarc.unauthorised_source", "target": domain, "kind": "domain", "sources": sources,
           "text": f"Auditor: new unauthorised source sending as {domain}\n" + "\n".join(lines)}
    out = []
    for channel, dest in alerting.channels(svc.settings).items():
        try:
            if channel == "webhook":
                alerting.send_webhook(dest, doc)
            else:
                host = svc.settings.public_url.split("://", 1)[-1].split("/")[0].split(":")[0]
                alerting.send_email(svc.settings.smtp_url, dest, doc, host)
            out.append({"channel": channel, "status": "sent", "error": None})
        except alerting.DeliveryError as exc:
            log.warning("dmarc alert for %s not delivered on %s: %s", domain, channel, exc)
            out.append({"channel": channel, "status": "failed", "error": str(exc)})
    return out
