"""Render report data into PDF bytes: Jinja2 templates, inline SVG charts, weasyprint."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from functools import lru_cache
from typing import Any

from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup
from weasyprint import HTML, Attachment

from checks.catalogue import RULES, citation_for, cite
from checks.i18n import detail_of, evidence_label, format_when, subject_label
from reports import charts
from reports.data import CampaignReportData, DomainReportData, PeriodReportData, SubjectReportData
from reports.i18n import labels


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["dt"] = _dt
    env.filters["num"] = _num
    env.filters["css_str"] = _css_str
    env.filters["compact"] = lambda v: v if isinstance(v, str) else json.dumps(
        v, ensure_ascii=False, sort_keys=True, default=str)
    env.filters["pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=1, sort_keys=True, default=str)
    return env


def _css_str(value: Any) -> Markup:
    """Text for a CSS string literal inside <style> (HTML escaping does not apply there)."""
    out = []
    for ch in str(value):
        if ch in '"\\<>&' or ord(ch) < 32:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup("".join(out))


_SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


def _by_severity(findings: list[Any]) -> list[Any]:
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), f.rule_id, f.subject))


@pass_context
def _dt(ctx: Any, value: Any) -> str:
    """A timestamp (or date) as the report's locale writes it (Babel), in UTC; ``—`` when blank."""
    return format_when(value, ctx["lang"])


@pass_context
def _num(ctx: Any, value: Any, digits: int | None = None) -> str:
    """A number as the report's locale writes it (``1 234,5`` in Russian)."""
    if value is None:
        return "—"
    fmt = None if digits is None else "#,##0." + "0" * digits
    return format_decimal(value, format=fmt, locale=ctx["lang"])


def _context(lang: str) -> dict[str, Any]:
    """What every template can use: labels and catalogue lookups in ``lang``."""
    L = labels(lang)

    def title(rule_id: str) -> str:
        r = RULES.get(rule_id)
        return r.title(lang) if r else rule_id

    def citation(rule_id: str, stored: str = "", jurisdictions: Any = (), channel: str | None = None) -> str:
        """The finding's stored citation (already narrowed to its campaign's jurisdictions), else the
        catalogue's, narrowed to ``jurisdictions`` when given; in ``lang``."""
        if stored:
            return cite(stored, lang)
        return cite(citation_for(rule_id, list(jurisdictions or ()), channel), lang) if rule_id in RULES else ""

    def word(prefix: str, value: Any) -> str:
        """A stored value (role, channel, decision) as its label, the value itself when unknown."""
        return L.get(f"{prefix}_{value}", value if value not in (None, "") else "—")

    return {"L": L, "lang": lang, "rule_title": title, "citation": citation,
            "fix": lambda rid: RULES[rid].fix(lang) if rid in RULES else "",
            "detail": lambda f: detail_of({"detail": f.detail, "detail_msgid": f.detail_msgid,
                                           "detail_params": f.detail_params}, lang),
            "about": lambda s: subject_label(s, lang), "ev_key": lambda k: evidence_label(k, lang),
            "word": word, "sev": lambda s: L.get(f"sev_{s}", s), "status": lambda s: L.get(f"status_{s}", s)}


def render_html(template: str, lang: str, **data: Any) -> str:
    """The HTML of a report (what weasyprint lays out)."""
    return _env().get_template(template).render(**_context(lang), **data)


def to_pdf(html: str, attachments: list[Attachment] | None = None) -> bytes:
    """Lay out HTML into PDF bytes, with embedded files."""
    return HTML(string=html, base_url=".").write_pdf(attachments=attachments or [])


# --- the four reports ----------------------------------------------------------------------

def campaign_pdf(data: CampaignReportData, lang: str = "en") -> bytes:
    """The campaign audit report."""
    L = labels(lang)
    findings = _by_severity(data.findings)
    counts = Counter(f.severity for f in data.findings)
    reason_chart = charts.bar_chart(sorted(data.reasons.items(), key=lambda kv: -kv[1]), colour="#c0392b")
    toc = [("summary", L["summary"]), ("message", L["message"]), ("reviews", L["reviews"]),
           ("findings", L["findings"]), ("coverage", L["coverage"]), ("posture", L["posture_at_audit"]),
           ("token", L["approval_token"])]
    html = render_html("campaign.html", lang, d=data, findings=findings, counts=counts, toc=toc,
                       reason_chart=Markup(reason_chart), title=L["campaign_report"],
                       ident=f"#{data.id} · {data.name}")
    return to_pdf(html)


def domain_pdf(data: DomainReportData, lang: str = "en") -> bytes:
    """The domain posture report."""
    L = labels(lang)
    series = _timeline(data.history)
    chart = charts.stacked_columns(series, ("block", "warn", "info"),
                                   {k: L[f"sev_{k}"] for k in ("block", "warn", "info")})
    toc = [("posture", L["current_posture"]), ("findings", L["findings"]), ("blocklists", L["blocklists"]),
           ("history", L["history"])]
    findings = _by_severity(data.posture.findings) if data.posture else []
    # The table lists the checks that changed something (and the first of the period); the
    # chart shows them all, a day per column once there are too many to draw one each.
    changes = [h for i, h in enumerate(data.history) if i == 0 or h.added or h.removed]
    sources_chart = ""
    if data.sources is not None:
        toc.append(("sources", L["sources"]))
        sources_chart = charts.stacked_columns(
            [(d["day"][5:], {"approved": d["dmarc_pass"], "blocked": d["messages"] - d["dmarc_pass"]})
             for d in data.sources["days"]], ("approved", "blocked"),
            {"approved": L["dmarc_pass"], "blocked": L["dmarc_fail"]})
    html = render_html("domain.html", lang, d=data, findings=findings, changes=changes, toc=toc,
                       chart=Markup(chart), sources_chart=Markup(sources_chart),
                       title=L["domain_report"],
                       ident=data.domain)
    return to_pdf(html)


def _timeline(history: list[Any], most: int = 60) -> list[tuple[str, dict[str, float]]]:
    """Chart columns: one per check, or the worst check of each day when there are many."""
    days = {h.checked_at.date() for h in history}
    if len(history) <= most:
        fmt = "%m-%d" if len(days) > 2 else "%m-%d %H:%M"
        return [(h.checked_at.strftime(fmt), {"block": h.block, "warn": h.warn, "info": h.info}) for h in history]
    worst: dict[date, Any] = {}
    for h in history:
        d = h.checked_at.date()
        if d not in worst or (h.block, h.warn, h.info) > (worst[d].block, worst[d].warn, worst[d].info):
            worst[d] = h
    return [(d.strftime("%m-%d"), {"block": h.block, "warn": h.warn, "info": h.info})
            for d, h in sorted(worst.items())]


def subject_attachments(data: SubjectReportData) -> list[tuple[str, str]]:
    """(file name, text) of every file embedded in the subject report."""
    files = [(e.attachment_name, json.dumps(e.proof, ensure_ascii=False, indent=2, sort_keys=True))
             for e in data.events]
    if data.checkpoint:
        files.append(("checkpoint.json", json.dumps(data.checkpoint, indent=2, sort_keys=True)))
    if data.public_key_pem:
        files.append(("public-key.pem", data.public_key_pem))
    return files


def subject_pdf(data: SubjectReportData, lang: str = "en") -> bytes:
    """The data subject's consent report, each event's proof embedded as a JSON file."""
    L = labels(lang)
    toc = [("states", L["current_consent"]), ("history", L["consent_history"]), ("proofs", L["proofs"]),
           ("checkpoint", L["checkpoint"]), ("verify", L["verify_offline"])]
    html = render_html("subject.html", lang, d=data, toc=toc, title=L["subject_report"], ident=data.subject)
    files = [Attachment(string=text, name=name, description=name) for name, text in subject_attachments(data)]
    return to_pdf(html, files)


def period_pdf(data: PeriodReportData, lang: str = "en") -> bytes:
    """The period report: campaigns, findings, unsubscribes and posture changes."""
    L = labels(lang)
    statuses = ("approved", "needs_review", "blocked", "rejected")
    per_day = charts.stacked_columns([(d.strftime("%m-%d"), v) for d, v in data.per_day], statuses,
                                     {s: L[f"status_{s}"] for s in statuses})
    top = charts.bar_chart(list(data.top_findings), label_width=220)
    secs = sorted(data.unsubscribe_seconds)
    latency = {"median": _pct(secs, 0.5), "p95": _pct(secs, 0.95), "max": secs[-1] if secs else None}
    toc = [("campaigns", L["campaigns_audited"]), ("top", L["top_findings"]), ("unsubscribes", L["unsubscribes"]),
           ("posture", L["posture_changes"])]
    if data.delivery:
        toc.append(("delivery", L["delivery"]))
    titles = {rate: L[f"kpi_{rate}_rate"] for rate in ("delivery", "bounce", "complaint")}
    delivery_charts = [{name: Markup(svg) for name, svg in charts.delivery_charts(k, titles).items()}
                       for k in data.delivery]
    html = render_html("period.html", lang, d=data, toc=toc, per_day_chart=Markup(per_day),
                       top_chart=Markup(top), delivery_charts=delivery_charts, latency=latency,
                       statuses=statuses, title=L["period_report"],
                       ident=f"{data.date_from.isoformat()} — {data.date_to.isoformat()}")
    return to_pdf(html)


def _pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return None
    k = max(0, min(len(values) - 1, int(round(q * len(values) + 0.5)) - 1))
    return values[k]
