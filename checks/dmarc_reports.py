"""DMARC aggregate (RFC 7489 §7.2, appendix C) and SMTP TLS (RFC 8460) reports: unpack, screen, parse.

parsedmarc parses; this module stands in front of it so that hostile input is refused before
any parser builds a tree: size and ratio caps on gzip/zip, no DTD or entities (defusedxml), a
depth cap, and dates that a receiver could have written. Pure: no Flask, no database, no DNS.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import defusedxml.ElementTree as SafeET
import parsedmarc
from defusedxml import DefusedXmlException

MAX_INPUT_BYTES = 25 * 1024 * 1024
MAX_EXPANDED_BYTES = 50 * 1024 * 1024
# Report XML is repetitive and compresses ~20-40x; several hundred x is a bomb.
MAX_RATIO = 200
MAX_DEPTH = 16
MAX_ZIP_MEMBERS = 4
MAX_RECORDS = 200_000
# RFC 7489 §7.2.1.1 asks for daily reports; a week covers slow reporters, more is not a report.
MAX_SPAN = timedelta(days=7)
EARLIEST = datetime(2012, 1, 1, tzinfo=UTC)  # DMARC was published in 2012
FUTURE_SLACK = timedelta(days=1)

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
REPORT_SUFFIXES = (".xml", ".gz", ".zip", ".json", ".xml.gz", ".json.gz")


class ReportRefused(ValueError):
    """The file is not a report we accept; the message says why, in one line."""


@dataclass(frozen=True)
class AggregateRecord:
    """One row of an aggregate report, on one UTC day."""

    source_ip: str
    count: int
    day: date
    spf_aligned: bool
    dkim_aligned: bool
    dmarc_pass: bool
    spf_pass: bool
    forwarded: bool
    disposition: str
    header_from: str
    envelope_from: str | None
    selectors: tuple[str, ...]


@dataclass(frozen=True)
class AggregateReport:
    """A DMARC aggregate report as stored."""

    org_name: str
    report_id: str
    domain: str
    begin: datetime
    end: datetime
    policy: dict[str, Any]
    records: list[AggregateRecord]
    kind: Literal["aggregate"] = "aggregate"

    @property
    def messages(self) -> int:
        """Messages the report covers."""
        return sum(r.count for r in self.records)


@dataclass(frozen=True)
class TlsPolicy:
    """One policy's sessions in an SMTP TLS report (RFC 8460 §4.4)."""

    policy_type: str
    policy_domain: str
    successful: int
    failed: int
    failure_details: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class TlsReport:
    """An SMTP TLS report as stored."""

    org_name: str
    report_id: str
    begin: datetime
    end: datetime
    policies: list[TlsPolicy]
    kind: Literal["smtp_tls"] = "smtp_tls"

    @property
    def domain(self) -> str:
        """The first policy's domain (a report usually covers one)."""
        return self.policies[0].policy_domain if self.policies else ""

    @property
    def records(self) -> list[TlsPolicy]:
        """The policies, counted as the report's records."""
        return self.policies


Report = AggregateReport | TlsReport


# --- containers -------------------------------------------------------------------------------

def _gunzip(data: bytes) -> bytes:
    limit = min(MAX_EXPANDED_BYTES, max(len(data), 1) * MAX_RATIO)
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ReportRefused(f"corrupt gzip stream: {exc}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise ReportRefused(f"gzip expands beyond {limit} bytes (a compression bomb?)")
    if not d.eof:
        raise ReportRefused("truncated gzip stream")
    return out


def _unzip(data: bytes) -> bytes:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ReportRefused(f"corrupt zip archive: {exc}") from None
    if not members or len(members) > MAX_ZIP_MEMBERS:
        raise ReportRefused(f"a report zip holds one file, this one {len(members)}")
    info = next((i for i in members if i.filename.lower().endswith((".xml", ".json"))), members[0])
    limit = min(MAX_EXPANDED_BYTES, max(info.compress_size, 1) * MAX_RATIO)
    if info.file_size > limit:
        raise ReportRefused(f"zip member expands to {info.file_size} bytes (a compression bomb?)")
    try:
        # The declared size may lie: read at most one byte more than allowed.
        with zf.open(info) as fh:
            out = fh.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, OSError) as exc:
        raise ReportRefused(f"unreadable zip member: {exc}") from None
    if len(out) > limit:
        raise ReportRefused(f"zip member expands beyond {limit} bytes (a compression bomb?)")
    return out


def _looks_like_email(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return any(head.startswith(h) or b"\n" + h in head
               for h in (b"from:", b"received:", b"return-path:", b"mime-version:", b"subject:",
                         b"delivered-to:", b"content-type:"))


def _from_email(data: bytes) -> tuple[str, bytes]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = (part.get_filename() or "").lower()
        ctype = part.get_content_type()
        if (name.endswith(REPORT_SUFFIXES) or ctype in (
                "application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed",
                "text/xml", "application/xml", "application/tlsrpt+gzip", "application/tlsrpt+json")):
            payload = part.get_payload(decode=True)
            if payload:
                return name or ctype, payload
    raise ReportRefused("the email carries no report attachment (xml, gz, zip or json)")


def unpack(data: bytes) -> bytes:
    """The report text inside ``data`` (raw, gzip, zip, or an email carrying one), within caps."""
    if len(data) > MAX_INPUT_BYTES:
        raise ReportRefused(f"file of {len(data)} bytes exceeds the {MAX_INPUT_BYTES} byte cap")
    if not data.strip():
        raise ReportRefused("empty file")
    for _ in range(3):  # an email -> a zip/gzip -> the report; no deeper nesting is legitimate
        if data.startswith(GZIP_MAGIC):
            data = _gunzip(data)
        elif data.startswith(ZIP_MAGIC):
            data = _unzip(data)
        elif data.lstrip()[:1] in (b"<", b"{"):
            return data
        elif _looks_like_email(data):
            data = _from_email(data)[1]
        else:
            raise ReportRefused("not a report: neither XML, JSON, gzip, zip nor an email")
    raise ReportRefused("containers nested too deep")


# --- screening and parsing --------------------------------------------------------------------

def _screen_xml(xml: bytes) -> Any:
    """Parse with defusedxml (no DTD, no entities) and cap the depth; the root element."""
    depth = 0
    root = None
    try:
        for event, elem in SafeET.iterparse(io.BytesIO(xml), events=("start", "end"),
                                            forbid_dtd=True, forbid_entities=True, forbid_external=True):
            if event == "start":
                depth += 1
                root = elem if root is None else root
                if depth > MAX_DEPTH:
                    raise ReportRefused(f"XML nested deeper than {MAX_DEPTH} levels")
            else:
                depth -= 1
    except DefusedXmlException as exc:
        raise ReportRefused(f"XML with a DTD or entities is refused ({type(exc).__name__})") from None
    except SafeET.ParseError as exc:
        raise ReportRefused(f"not well-formed XML: {exc}") from None
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(elem: Any, *path: str) -> Any:
    for name in path:
        elem = next((c for c in elem if _local(c.tag) == name), None) if elem is not None else None
    return elem


def check_dates(begin: datetime, end: datetime, now: datetime) -> None:
    """Refuse a date range no receiver could have written."""
    if end < begin:
        raise ReportRefused(f"date range ends ({end:%Y-%m-%d %H:%M}) before it begins ({begin:%Y-%m-%d %H:%M})")
    if end - begin > MAX_SPAN:
        raise ReportRefused(f"date range of {(end - begin).days} days exceeds {MAX_SPAN.days}")
    if begin < EARLIEST:
        raise ReportRefused(f"date range begins {begin:%Y-%m-%d}, before DMARC existed")
    if end > now + FUTURE_SLACK:
        raise ReportRefused(f"date range ends in the future ({end:%Y-%m-%d})")


def _epoch(value: Any, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value).strip().split(".")[0]), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ReportRefused(f"date_range {what} is not a Unix time: {str(value)[:40]!r}") from None


def _record(rec: dict[str, Any], domain: str, day: date) -> AggregateRecord:
    pe = rec.get("policy_evaluated") or {}
    reasons = {str(r.get("type", "")).lower() for r in pe.get("policy_override_reasons") or []}
    dkim = rec.get("auth_results", {}).get("dkim") or []
    spf = rec.get("auth_results", {}).get("spf") or []
    day = date.fromisoformat(rec["interval_begin"][:10]) if rec.get("normalized_timespan") else day
    return AggregateRecord(
        source_ip=str(rec["source"]["ip_address"]), count=int(rec["count"]), day=day,
        spf_aligned=bool(rec["alignment"]["spf"]), dkim_aligned=bool(rec["alignment"]["dkim"]),
        dmarc_pass=bool(rec["alignment"]["dmarc"]),
        spf_pass=any(r.get("result") == "pass" for r in spf),
        # RFC 7489 appendix C: the receiver says it judged the mail forwarded or from a list.
        forwarded=bool(reasons & {"forwarded", "mailing_list", "trusted_forwarder"}),
        disposition=str(pe.get("disposition") or "none"),
        header_from=(rec.get("identifiers", {}).get("header_from") or domain).lower(),
        envelope_from=rec.get("identifiers", {}).get("envelope_from"),
        selectors=tuple(sorted({str(r["selector"]).lower() for r in dkim
                                if r.get("selector") not in (None, "", "none")
                                and str(r.get("domain", "")).lower().rstrip(".") == domain})))


def parse_aggregate(xml: bytes, *, now: datetime | None = None) -> AggregateReport:
    """Screen and parse an aggregate report's XML."""
    root = _screen_xml(xml)
    if root is None or _local(root.tag) != "feedback":
        raise ReportRefused("XML is not a DMARC aggregate report (no <feedback> root)")
    if sum(1 for c in root if _local(c.tag) == "record") > MAX_RECORDS:
        raise ReportRefused(f"more than {MAX_RECORDS} records")
    rng = _find(root, "report_metadata", "date_range")
    if rng is None:
        raise ReportRefused("aggregate report without report_metadata/date_range")
    begin = _epoch(getattr(_find(rng, "begin"), "text", None), "begin")
    end = _epoch(getattr(_find(rng, "end"), "text", None), "end")
    check_dates(begin, end, now or datetime.now(UTC))
    try:
        parsed = parsedmarc.parse_aggregate_report_xml(xml, offline=True, always_use_local_files=True)
    except parsedmarc.ParserError as exc:
        raise ReportRefused(f"not a valid aggregate report: {exc}") from None
    meta, pol = parsed["report_metadata"], parsed["policy_published"]
    domain = str(pol["domain"]).lower().rstrip(".")
    if not domain or not meta.get("report_id"):
        raise ReportRefused("aggregate report without a policy domain or report id")
    day = begin.date()
    records = [_record(r, domain, day) for r in parsed["records"]]
    return AggregateReport(org_name=str(meta["org_name"]), report_id=str(meta["report_id"]), domain=domain,
                           begin=begin, end=end, policy=dict(pol), records=records)


def _json_depth_ok(data: Any) -> bool:
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, dict | list):
            stack.extend((v, depth + 1) for v in (node.values() if isinstance(node, dict) else node))
    return True


def _rfc3339(value: Any, what: str) -> datetime:
    try:
        dt = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ReportRefused(f"date-range {what} is not an RFC 3339 time: {str(value)[:40]!r}") from None
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_tls(text: bytes, *, now: datetime | None = None) -> TlsReport:
    """Screen and parse an SMTP TLS report (RFC 8460 §4.3 JSON)."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ReportRefused(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise ReportRefused(f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not _json_depth_ok(doc):
        raise ReportRefused(f"not an SMTP TLS report object, or nested deeper than {MAX_DEPTH} levels")
    rng = doc.get("date-range") if isinstance(doc.get("date-range"), dict) else {}
    begin = _rfc3339(rng.get("start-datetime"), "start-datetime")
    end = _rfc3339(rng.get("end-datetime"), "end-datetime")
    check_dates(begin, end, now or datetime.now(UTC))
    try:
        parsed = parsedmarc.parse_smtp_tls_report_json(text)
    except parsedmarc.ParserError as exc:
        raise ReportRefused(f"not a valid SMTP TLS report: {exc}") from None
    policies = [TlsPolicy(policy_type=p["policy_type"], policy_domain=str(p["policy_domain"]).lower().rstrip("."),
                          successful=int(p["successful_session_count"]), failed=int(p["failed_session_count"]),
                          failure_details=list(p.get("failure_details") or []))
                for p in parsed["policies"]]
    if not policies:
        raise ReportRefused("SMTP TLS report without policies")
    return TlsReport(org_name=str(parsed["organization_name"]), report_id=str(parsed["report_id"]),
                     begin=begin, end=end, policies=policies)


def parse_report(data: bytes, *, now: datetime | None = None) -> Report:
    """Any accepted file (xml, gz, zip, json, eml) to one report, or ReportRefused with the reason."""
    text = unpack(data)
    if text.lstrip()[:1] == b"{":
        return parse_tls(text, now=now)
    return parse_aggregate(text, now=now)
