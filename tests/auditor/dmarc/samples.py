"""Real-shaped DMARC aggregate and SMTP TLS reports, written as the big receivers send them."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

DOMAIN = "shop.example"
DAY = datetime(2026, 11, 28, tzinfo=UTC)
BEGIN = int(DAY.timestamp())
END = BEGIN + 86399


@dataclass(frozen=True)
class Row:
    """One record: source, count, policy_evaluated and the auth results behind them."""

    ip: str
    count: int
    dkim: str  # policy_evaluated dkim (aligned)
    spf: str  # policy_evaluated spf (aligned)
    dkim_results: tuple[tuple[str, str, str], ...] = ()  # (domain, selector, result)
    spf_results: tuple[tuple[str, str], ...] = ()  # (domain, result)
    reason: str | None = None


def _auth(row: Row, selector_tag: bool = True) -> str:
    out = []
    for dom, sel, res in row.dkim_results:
        out.append(f"<dkim><domain>{dom}</domain>" + (f"<selector>{sel}</selector>" if selector_tag else "")
                   + f"<result>{res}</result></dkim>")
    for dom, res in row.spf_results:
        out.append(f"<spf><domain>{dom}</domain><scope>mfrom</scope><result>{res}</result></spf>")
    return "".join(out)


def _record(row: Row, *, envelope_to: bool = False, envelope_from: bool = False) -> str:
    reason = f"<reason><type>{row.reason}</type><comment></comment></reason>" if row.reason else ""
    ids = f"<header_from>{DOMAIN}</header_from>"
    if envelope_to:
        ids = "<envelope_to>outlook.com</envelope_to>" + ids
    if envelope_from:
        env = row.spf_results[0][0] if row.spf_results else DOMAIN
        ids += f"<envelope_from>{env}</envelope_from>"
    return (f"<record><row><source_ip>{row.ip}</source_ip><count>{row.count}</count>"
            f"<policy_evaluated><disposition>none</disposition><dkim>{row.dkim}</dkim><spf>{row.spf}</spf>"
            f"{reason}</policy_evaluated></row><identifiers>{ids}</identifiers>"
            f"<auth_results>{_auth(row)}</auth_results></record>")


def google(rows: list[Row], report_id: str = "4283710253915706374", begin: int = BEGIN, end: int = END) -> bytes:
    """Google: zip of google.com!domain!begin!end.xml, no version element."""
    xml = ('<?xml version="1.0" encoding="UTF-8" ?>\n<feedback>\n  <report_metadata>\n'
           "    <org_name>google.com</org_name>\n    <email>noreply-dmarc-support@google.com</email>\n"
           "    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>\n"
           f"    <report_id>{report_id}</report_id>\n"
           f"    <date_range>\n      <begin>{begin}</begin>\n      <end>{end}</end>\n    </date_range>\n"
           f"  </report_metadata>\n  <policy_published>\n    <domain>{DOMAIN}</domain>\n"
           "    <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>none</p>\n    <sp>none</sp>\n    <pct>100</pct>\n"
           "    <np>none</np>\n  </policy_published>\n" + "".join(_record(r) for r in rows) + "\n</feedback>\n")
    return xml.encode()


def yahoo(rows: list[Row], report_id: str = "1764288000.628133") -> bytes:
    """Yahoo: gzip, org "Yahoo", a <version>, envelope_from given."""
    xml = ('<?xml version="1.0"?>\n<feedback>\n  <version>1.0</version>\n  <report_metadata>\n'
           "    <org_name>Yahoo</org_name>\n    <email>dmarchelp@yahooinc.com</email>\n"
           f"    <report_id>{report_id}</report_id>\n"
           f"    <date_range><begin>{BEGIN}</begin><end>{END}</end></date_range>\n  </report_metadata>\n"
           f"  <policy_published><domain>{DOMAIN}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p>"
           "<pct>100</pct></policy_published>\n" + "".join(_record(r, envelope_from=True) for r in rows)
           + "\n</feedback>")
    return xml.encode()


def mailru(rows: list[Row], report_id: str = "25487945612358") -> bytes:
    """Mail.ru: windows-style XML declaration, org "Mail.Ru"."""
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\r\n<feedback><report_metadata><org_name>Mail.Ru</org_name>'
           "<email>dmarc_support@corp.mail.ru</email><extra_contact_info>http://help.mail.ru/mail-help</extra_contact_info>"
           f"<report_id>{report_id}</report_id><date_range><begin>{BEGIN}</begin><end>{END}</end></date_range>"
           f"</report_metadata><policy_published><domain>{DOMAIN}</domain><adkim>r</adkim><aspf>r</aspf>"
           "<p>none</p><sp>none</sp><pct>100</pct></policy_published>"
           + "".join(_record(r) for r in rows) + "</feedback>")
    return xml.encode()


def yandex(rows: list[Row], report_id: str = "17642880005f1a1b2c") -> bytes:
    """Yandex: zip, org "Yandex", version 1.0, selectors given."""
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<feedback>\n<version>1.0</version>\n<report_metadata>\n'
           "<org_name>Yandex</org_name>\n<email>dmarchelp@yandex.ru</email>\n"
           "<extra_contact_info>https://yandex.ru/support/mail/</extra_contact_info>\n"
           f"<report_id>{report_id}</report_id>\n<date_range>\n<begin>{BEGIN}</begin>\n<end>{END}</end>\n"
           f"</date_range>\n</report_metadata>\n<policy_published>\n<domain>{DOMAIN}</domain>\n<adkim>r</adkim>\n"
           "<aspf>r</aspf>\n<p>none</p>\n<sp>none</sp>\n<pct>100</pct>\n</policy_published>\n"
           + "".join(_record(r) for r in rows) + "\n</feedback>\n")
    return xml.encode()


def microsoft(rows: list[Row], report_id: str = "a1c2e3f4b5d6478899aabbccddeeff00") -> bytes:
    """Microsoft (Outlook.com): gzip, namespaced root, envelope_to and envelope_from."""
    xml = ('<?xml version="1.0"?>\n<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n  <version>1.0</version>\n'
           "  <report_metadata>\n    <org_name>Enterprise Outlook</org_name>\n"
           "    <email>dmarcreport@microsoft.com</email>\n"
           f"    <report_id>{report_id}</report_id>\n"
           f"    <date_range>\n      <begin>{BEGIN}</begin>\n      <end>{BEGIN + 86400}</end>\n    </date_range>\n"
           f"  </report_metadata>\n  <policy_published>\n    <domain>{DOMAIN}</domain>\n    <adkim>r</adkim>\n"
           "    <aspf>r</aspf>\n    <p>none</p>\n    <sp>none</sp>\n    <pct>100</pct>\n    <fo>0</fo>\n"
           "  </policy_published>\n"
           + "".join(_record(r, envelope_to=True, envelope_from=True) for r in rows) + "\n</feedback>")
    return xml.encode()


def tls_report(org: str = "Google Inc.", report_id: str = "2026-11-28T00:00:00Z_shop.example",
               failed: int = 3) -> bytes:
    """An RFC 8460 report as Google sends it (JSON, usually gzipped)."""
    doc = {"organization-name": org, "date-range": {"start-datetime": "2026-11-28T00:00:00Z",
                                                      "end-datetime": "2026-11-28T23:59:59Z"},
           "contact-info": "smtp-tls-reporting@google.com", "report-id": report_id,
           "policies": [{"policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce",
                                                                           "mx: mx.shop.example", "max_age: 86400"],
                                    "policy-domain": DOMAIN, "mx-host": ["mx.shop.example"]},
                         "summary": {"total-successful-session-count": 120, "total-failure-session-count": failed},
                         "failure-details": ([{"result-type": "certificate-expired", "sending-mta-ip": "209.85.220.41",
                                               "receiving-mx-hostname": "mx.shop.example",
                                               "receiving-ip": "192.0.2.25", "failed-session-count": failed}]
                                             if failed else [])}]}
    return json.dumps(doc).encode()


def gz(data: bytes) -> bytes:
    """gzip as the receivers do."""
    return gzip.compress(data)


def zipped(data: bytes, name: str = "report.xml") -> bytes:
    """A zip with one member."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def as_email(data: bytes, filename: str, ctype: str = "application/gzip") -> bytes:
    """An email carrying the report as an attachment, as receivers send it to the rua address."""
    msg = EmailMessage()
    msg["From"] = "noreply-dmarc-support@google.com"
    msg["To"] = "dmarc@shop.example"
    msg["Subject"] = f"Report domain: {DOMAIN} Submitter: google.com Report-ID: <x>"
    msg.set_content("This is an aggregate report from google.com.")
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
