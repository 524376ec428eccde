"""Storing receivers' reports and reading them back: sources per domain and period, TLS results."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dns.exception
import dns.resolver
import dns.reversename
from flask import Flask
from sqlalchemy import case, func, insert, literal_column, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auditor.db import dialect_insert, transaction, utcnow
from auditor.dmarc.alerts import new_unauthorised, send_unauthorised_alert
from auditor.dmarc.models import (
    DmarcRecord,
    DmarcReport,
    DmarcSourceDay,
    SourcePtr,
    TlsPolicyResult,
)
from auditor.dmarc.selectors import learn_selectors
from auditor.periods import period  # noqa: F401  (the API and the views take periods here)
from auditor.services import services
from checks.dmarc_reports import AggregateReport, Report, ReportRefused, TlsReport, parse_report
from checks.dmarc_sources import Source, SourceTotals, classify, source_findings, tls_findings  # noqa: F401
from checks.findings import Finding

BATCH = 5000
MAX_PTR_LOOKUPS = 100
PTR_RETRY = timedelta(days=7)
VERDICT_ORDER = {"unauthorised": 0, "forwarded": 1, "authorised": 2}
TOTALS = ("messages", "spf_aligned", "dkim_aligned", "dmarc_pass", "spf_pass", "forwarded")


@dataclass
class Ingested:
    """What became of one file: ``imported`` or ``duplicate``, with the report's summary."""

    status: str
    summary: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)


def summary(report: Report) -> dict[str, Any]:
    """The API's view of a report (INTERFACES.md § DMARC reports)."""
    return {"report_id": report.report_id, "kind": report.kind, "org_name": report.org_name,
            "domain": report.domain, "begin": report.begin.isoformat(), "end": report.end.isoformat(),
            "records": len(report.records)}


US = "\x1f"  # the separator of the selectors / reporters lists in dmarc_source_days
MAX_TAG_CHARS = 4000


def _tags(values: set[str]) -> str:
    return US + US.join(sorted(values)) + US if values else ""


def _untag(joined: str | None) -> list[str]:
    # group_concat / string_agg join the per-day strings with ","; only separators and that comma
    # ever stand between two US, and no value is a bare comma.
    return sorted({v for v in (joined or "").split(US) if v and v != ","})


def _upsert(s: Session, model: type, rows: list[dict[str, Any]], keys: list[str], add: tuple[str, ...] = (),
            merge: tuple[str, ...] = ()) -> None:
    """INSERT ... ON CONFLICT: add the ``add`` columns, append unseen ``merge`` lists; or do nothing."""
    if not rows:
        return
    pg = s.get_bind().dialect.name == "postgresql"
    stmt = dialect_insert(s)(model)
    if add or merge:
        col, new = model.__table__.c, stmt.excluded
        sets: dict[str, Any] = {c: col[c] + new[c] for c in add}
        for c in merge:
            seen = (func.strpos(col[c], new[c]) if pg else func.instr(col[c], new[c])) > 0
            sets[c] = case((or_(seen, func.length(col[c]) > MAX_TAG_CHARS), col[c]), else_=col[c] + new[c])
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=sets)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    for i in range(0, len(rows), BATCH):
        s.execute(stmt, rows[i:i + BATCH])


def _store_aggregate(s: Session, pk: int, r: AggregateReport) -> None:
    records = [{"report_pk": pk, "domain": r.domain, "day": x.day, "source_ip": x.source_ip, "count": x.count,
                "spf_aligned": x.spf_aligned, "dkim_aligned": x.dkim_aligned, "dmarc_pass": x.dmarc_pass,
                "spf_pass": x.spf_pass, "forwarded": x.forwarded, "disposition": x.disposition[:16],
                "envelope_from": (x.envelope_from or None) and x.envelope_from[:255],
                "selectors": ",".join(x.selectors)[:255]} for x in r.records]
    # Core executemany, not the ORM's bulk insert: a third of the time per report (docs/dns.md).
    for i in range(0, len(records), BATCH):
        s.execute(DmarcRecord.__table__.insert(), records[i:i + BATCH])
    days: dict[tuple[date, str], dict[str, Any]] = {}
    sels: dict[tuple[date, str], set[str]] = defaultdict(set)
    for x in r.records:
        d = days.setdefault((x.day, x.source_ip), {"domain": r.domain, "day": x.day, "source_ip": x.source_ip,
                                                   **dict.fromkeys(TOTALS, 0), "reporters": _tags({r.org_name})})
        d["messages"] += x.count
        for flag in TOTALS[1:]:
            d[flag] += x.count if getattr(x, flag) else 0
        sels[(x.day, x.source_ip)].update(x.selectors)
    for key, d in days.items():
        d["selectors"] = _tags(sels[key])
    _upsert(s, DmarcSourceDay, sorted(days.values(), key=lambda d: (d["day"], d["source_ip"])),
            ["domain", "day", "source_ip"], TOTALS, ("selectors", "reporters"))


def _store_tls(s: Session, pk: int, r: TlsReport) -> None:
    s.execute(insert(TlsPolicyResult), [
        {"report_pk": pk, "policy_domain": p.policy_domain[:255], "policy_type": p.policy_type[:16],
         "day": r.begin.date(), "successful": p.successful, "failed": p.failed,
         "failure_details": p.failure_details} for p in r.policies])


def ingest(app: Flask, data: bytes, *, via: str, now: datetime | None = None) -> Ingested:
    """Parse and store one report file; a report already stored is a duplicate. ReportRefused if hostile."""
    report = parse_report(data, now=now)
    if report.kind == "aggregate" and not report.records:
        raise ReportRefused("aggregate report without a usable record")
    svc = services(app)
    key = (report.kind, report.org_name[:255], report.report_id[:255])
    try:
        with transaction(svc.sessions) as s:
            if _existing(s, key) is not None:
                return Ingested("duplicate", summary(report))
            row = DmarcReport(kind=report.kind, org_name=key[1], report_id=key[2], domain=report.domain[:255],
                              begin=report.begin, end=report.end, records=len(report.records),
                              messages=report.messages if isinstance(report, AggregateReport) else
                              sum(p.successful + p.failed for p in report.policies),
                              policy=report.policy if isinstance(report, AggregateReport) else {},
                              received_via=via, received_at=utcnow())
            s.add(row)
            s.flush()
            findings: list[Finding] = []
            fresh: list[dict[str, Any]] = []
            if isinstance(report, AggregateReport):
                _store_aggregate(s, row.id, report)
                fresh = new_unauthorised(s, report)
                findings = learn_selectors(s, report.domain, sorted({x for r in report.records for x in r.selectors}),
                                           origin="dmarc-report")
            else:
                _store_tls(s, row.id, report)
    except IntegrityError:
        # Another process stored the same report between our check and our insert.
        return Ingested("duplicate", summary(report))
    alerts = send_unauthorised_alert(app, report.domain, fresh)
    return Ingested("imported", summary(report), findings, alerts)


def _existing(s: Session, key: tuple[str, str, str]) -> int | None:
    return s.scalar(select(DmarcReport.id).where(DmarcReport.kind == key[0], DmarcReport.org_name == key[1],
                                                 DmarcReport.report_id == key[2]))


# --- reading ----------------------------------------------------------------------------------

def _ptr_type(ptr: str | None) -> str | None:
    if not ptr:
        return None
    try:
        from parsedmarc.utils import get_base_domain, get_service_from_reverse_dns_base_domain

        base = get_base_domain(ptr)
        return get_service_from_reverse_dns_base_domain(base, offline=True, always_use_local_file=True)["type"]
    except Exception:  # parsedmarc's map is an aid to the verdict, never a reason to fail it
        return None


def ptr_names(s: Session, ips: list[str], resolver: dns.resolver.Resolver | None) -> dict[str, str | None]:
    """PTR names of ``ips``: stored ones, then up to MAX_PTR_LOOKUPS fresh lookups (stored for next time)."""
    known = {ip: (ptr, at) for ip, ptr, at in s.execute(
        select(SourcePtr.ip, SourcePtr.ptr, SourcePtr.looked_up_at).where(SourcePtr.ip.in_(ips)))}
    out = {ip: known[ip][0] for ip in ips if ip in known}
    if resolver is None:
        return out
    now = utcnow()
    stale = [ip for ip in ips if ip not in known
             or (known[ip][0] is None and _aware(known[ip][1]) < now - PTR_RETRY)][:MAX_PTR_LOOKUPS]
    for ip in stale:
        try:
            answer = resolver.resolve(dns.reversename.from_address(ip), "PTR")
            name: str | None = str(answer[0].target).rstrip(".").lower()
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            name = None
        except (dns.exception.DNSException, ValueError):
            continue  # unknown, not absent: try again next time
        out[ip] = name
        if ip in known:
            s.execute(SourcePtr.__table__.update().where(SourcePtr.ip == ip).values(ptr=name, looked_up_at=now))
        else:
            _upsert(s, SourcePtr, [{"ip": ip, "ptr": name, "looked_up_at": now}], ["ip"])
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def sources(s: Session, domain: str, start: date, end: date,
            resolver: dns.resolver.Resolver | None = None) -> list[Source]:
    """Each source IP of ``domain`` in the period with its totals, PTR, selectors, reporters and verdict."""
    d = DmarcSourceDay
    if s.get_bind().dialect.name == "postgresql":
        lists = [func.string_agg(c.distinct(), literal_column("','")) for c in (d.selectors, d.reporters)]
    else:
        lists = [func.group_concat(c.distinct()) for c in (d.selectors, d.reporters)]
    rows = s.execute(select(d.source_ip, *[func.sum(getattr(d, c)) for c in TOTALS], *lists)
                     .where(d.domain == domain, d.day >= start, d.day <= end).group_by(d.source_ip)).all()
    ptrs = ptr_names(s, [r[0] for r in rows], resolver)
    out = []
    for ip, *sums, selectors, reporters in rows:
        ptr = ptrs.get(ip)
        totals = SourceTotals(ip, *(int(x or 0) for x in sums), ptr=ptr, ptr_type=_ptr_type(ptr),
                              selectors=tuple(_untag(selectors)), reporters=tuple(_untag(reporters)))
        out.append(Source(totals, classify(totals)))
    out.sort(key=lambda x: (VERDICT_ORDER[x.verdict], -x.totals.messages, x.totals.ip))
    return out


def source_view(src: Source) -> dict[str, Any]:
    """One row of the sources table as the API returns it."""
    t = src.totals
    return {"ip": t.ip, "ptr": t.ptr, "messages": t.messages, "spf_aligned": t.spf_aligned,
            "dkim_aligned": t.dkim_aligned, "dmarc_pass": t.dmarc_pass, "selectors": list(t.selectors),
            "reporters": list(t.reporters), "verdict": src.verdict}


def daily(s: Session, domain: str, start: date, end: date) -> list[dict[str, Any]]:
    """Per day: messages and DMARC-pass messages (the domain page's chart)."""
    d = DmarcSourceDay
    rows = s.execute(select(d.day, func.sum(d.messages), func.sum(d.dmarc_pass))
                     .where(d.domain == domain, d.day >= start, d.day <= end).group_by(d.day).order_by(d.day))
    return [{"day": day.isoformat(), "messages": int(m or 0), "dmarc_pass": int(p or 0)} for day, m, p in rows]


def tls_policies(s: Session, domain: str, start: date, end: date) -> list[dict[str, Any]]:
    """TLS session totals per (policy type, policy domain) with their failure details."""
    t = TlsPolicyResult
    acc: dict[tuple[str, str], dict[str, Any]] = {}
    for ptype, pdom, ok, bad, details in s.execute(
            select(t.policy_type, t.policy_domain, t.successful, t.failed, t.failure_details)
            .where(t.policy_domain == domain, t.day >= start, t.day <= end).order_by(t.id)):
        p = acc.setdefault((ptype, pdom), {"policy_type": ptype, "policy_domain": pdom, "successful": 0,
                                           "failed": 0, "failure_details": []})
        p["successful"] += int(ok)
        p["failed"] += int(bad)
        p["failure_details"].extend(details or [])
    return list(acc.values())


def findings(s: Session, domain: str, start: date, end: date,
             resolver: dns.resolver.Resolver | None = None) -> list[Finding]:
    """Every RULES.md §7 source finding of the domain over the period."""
    return (source_findings(domain, sources(s, domain, start, end, resolver))
            + tls_findings(domain, tls_policies(s, domain, start, end)))
