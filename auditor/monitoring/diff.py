"""What changed between two audits of one target, as human lines ("DKIM selector s1 disappeared").

Pure functions over ``DomainAudit.to_dict()`` documents. Only what both audits looked at is
compared: an audit run with fewer selectors or IPs than the previous one does not make the
missing ones "disappear". Only what was observed is compared: a record whose lookup failed keeps
its last known state (``observed``), and a finding that comes with a structured change of its
record is told in that change's line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from auditor.monitoring.observed import (
    FAILURE_RULES,
    apply,
    as_doc,
    carry,
    failures,
    finding_unit,
    is_unknown,
    scope,
)

Severity = str  # "block" | "warn" | "info": how much the change matters
DMARC_STRENGTH = {None: 0, "invalid": 0, "none": 1, "quarantine": 2, "reject": 3}
SEVERITY_RANK = {"info": 0, "warn": 1, "block": 2}
# Rule ids whose appearance is told by a structured change below (in better words), and the
# failed lookups (DNS-LOOKUP-FAILED, SPF-TEMPERROR, BL-QUERY-ERROR), which are told only when
# they persist (observed.failure_changes).
TOLD_ELSEWHERE = frozenset({
    "BL-IP-LISTED", "BL-IP-LISTED-MINOR", "BL-DOMAIN-LISTED", "BL-QUERY-ERROR",
    "DKIM-KEY-MISSING", "DMARC-MISSING", "DMARC-INVALID", "DMARC-POLICY-NONE", "SPF-MISSING",
    "SPF-MULTIPLE", "PTR-MISSING", *FAILURE_RULES,
})


@dataclass(frozen=True)
class Change:
    """One difference between consecutive audits of a target."""

    kind: str
    subject: str
    severity: Severity
    text: str
    before: Any = None
    after: Any = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)


def effective_doc(audit: Any) -> dict[str, Any]:
    """``audit`` as an effective document: as is when it already names its ``unknown`` units, else
    with every unit whose lookup failed taken as unknown."""
    doc = as_doc(audit) or {}
    if "unknown" in doc:
        return doc
    return apply(doc, None, [u for u in failures(doc) if not u.startswith("bl:")])


def diff(previous: Any, current: Any, *, listed_before: dict[str, str] | None = None) -> list[Change]:
    """The changes from ``previous`` to ``current`` (DomainAudit or its dict); [] without a previous.

    ``previous`` may be effective (``observed.effective``: failed units hold their last known
    state); ``current``'s failed units are carried from it, so a failed lookup is never a change.
    ``listed_before`` maps ``zone|target`` to the time the listing was first seen; when given it
    replaces the previous audit's own listings (so a list that errored in between is not lost).
    """
    if previous is None:
        return []
    prev = effective_doc(previous)
    cur = apply(current, *carry(prev, current))
    unknown = set(prev.get("unknown") or []) | set(cur.get("unknown") or [])
    changes: list[Change] = []
    common_sel = {s for s in set(_dkim(prev)) & set(_dkim(cur)) if not is_unknown(f"dkim:{s}", unknown)}
    common_ips = {ip for ip in _ips(prev) & _ips(cur) if not is_unknown(f"ptr:{ip}", unknown)}
    if cur.get("kind", "domain") == "domain":
        for name, compare in (("dkim", lambda: _dkim_changes(prev, cur, common_sel)),
                              ("dmarc", lambda: _dmarc_changes(prev, cur)), ("spf", lambda: _spf_changes(prev, cur)),
                              ("mx", lambda: _mx_changes(prev, cur))):
            if name == "dkim" or not is_unknown(name, unknown):
                changes += compare()
    changes += _ptr_changes(prev, cur, common_ips)
    if listed_before is None:
        listed_before = listed_state({}, prev)
    changes += _blocklist_changes(listed_before, as_doc(current) or {})
    changes = _fold(changes, _finding_changes(prev, cur, common_sel, common_ips, unknown))
    changes += _first_answers(prev, cur)
    return changes


def failed_lookups(audit: Any) -> set[str]:
    """The units (``spf``, ``dmarc``, ``dkim:s1``, ``ptr:192.0.2.10``, ``bl:zone``...) whose lookups
    failed in ``audit``."""
    return set(failures(audit))


def _unit_of_change(c: Change) -> str | None:
    """The unit a structured change is about, so the findings it explains fold into it."""
    kind, _, rest = c.subject.partition(":")
    if c.kind.startswith("dkim_"):
        return f"dkim:{rest}"
    if c.kind == "ptr":
        return f"ptr:{rest}"
    if c.kind in ("dmarc_policy", "spf_record", "mx"):
        return {"dmarc_policy": "dmarc", "spf_record": "spf", "mx": "mx"}[c.kind]
    return None


def _fold(structured: list[Change], findings: list[tuple[str | None, Change]]) -> list[Change]:
    """One change per real change: a finding that appears or resolves with a structured change of
    its record is told in that change's line (a revoked key is one line, not three)."""
    out = list(structured)
    index = {u: i for i, c in enumerate(out) if (u := _unit_of_change(c))}
    for unit, fc in findings:
        i = index.get(unit) if unit else None
        if i is None:
            out.append(fc)
            continue
        host = out[i]
        f = fc.after or fc.before or {}
        added = fc.kind == "finding_added"
        note = f"{f.get('rule_id')}: {f.get('title', f.get('rule_id'))}" if added else f"resolves {f.get('rule_id')}"
        sev = max(host.severity, fc.severity, key=SEVERITY_RANK.__getitem__) if added else host.severity
        out[i] = replace(host, severity=sev, text=f"{host.text} ({note})")
    return out


def _first_answers(prev: dict, cur: dict) -> list[Change]:
    """Block findings of units seen for the first time (their lookups failed until now)."""
    never = set(prev.get("unknown") or [])
    now_unknown = set(cur.get("unknown") or [])
    return [Change("baseline_block", str(f.get("subject") or f["rule_id"]), "block",
                   f"At first answer: {_finding_line(f)}", None, _brief(f))
            for f in cur.get("findings") or []
            if f.get("severity") == "block" and f.get("rule_id") not in FAILURE_RULES
            and is_unknown(finding_unit(f), never) and not is_unknown(finding_unit(f), now_unknown)]


# --- blocklists -----------------------------------------------------------------------------

def _bl_key(entry: dict[str, Any]) -> str:
    return f"{entry.get('zone')}|{entry.get('target')}"


def listed_state(before: dict[str, str], audit: Any) -> dict[str, str]:
    """``zone|target -> listed since`` after ``audit``.

    Only a "clean" answer ends a listing: a query error, or a target this audit did not look at,
    keeps the last known state (and its start time).
    """
    doc = as_doc(audit)
    when = _iso(doc.get("checked_at"))
    now = dict(before)
    for entry in doc.get("blocklists") or []:
        key, status = _bl_key(entry), entry.get("status")
        if status == "listed":
            now[key] = before.get(key, when)
        elif status == "clean":
            now.pop(key, None)
    return now


def _blocklist_changes(before: dict[str, str], cur: dict) -> list[Change]:
    after = listed_state(before, cur)
    entries = {_bl_key(e): e for e in cur.get("blocklists") or []}
    out = []
    # a target checked for the first time (an IP just added) and found listed is told too
    for key in sorted(set(after) - set(before)):
        e = entries[key]
        codes = ", ".join(e.get("codes") or [])
        # the list's code says what kind of listing (SBL, XBL, PBL...), its TXT says why or where to look
        why = " — ".join(x for x in (codes, e.get("reason") or "") if x)
        reason = f" ({why})" if why else ""
        sev = "warn" if e.get("severity") == "warn" else "block"
        out.append(Change("blocklist_listed", f"{e.get('kind', 'ip')}:{e.get('target')}", sev,
                          f"{_label(e)} listed on {e.get('zone')} since {after[key]}{reason}",
                          None, {"zone": e.get("zone"), "since": after[key], "codes": e.get("codes"),
                                 "reason": e.get("reason")}))
    for key in sorted(set(before) - set(after)):
        e = entries.get(key)
        if e is None or e.get("status") != "clean":  # no longer checked: not a delisting
            continue
        out.append(Change("blocklist_delisted", f"{e.get('kind', 'ip')}:{e.get('target')}", "info",
                          f"{_label(e)} no longer listed on {e.get('zone')} (listed since {before[key]})",
                          {"zone": e.get("zone"), "since": before[key]}, None))
    return out


def _label(entry: dict[str, Any]) -> str:
    return ("Domain " if entry.get("kind") == "domain" else "IP ") + str(entry.get("target"))


# --- records --------------------------------------------------------------------------------

def _records(doc: dict) -> dict[str, Any]:
    return doc.get("records") or {}


def _dkim(doc: dict) -> dict[str, Any]:
    return _records(doc).get("dkim") or {}


def _ips(doc: dict) -> set[str]:
    ips = set((_records(doc).get("ptr") or {}).keys())
    if doc.get("kind") == "ip" and doc.get("target"):
        ips.add(str(doc["target"]))
    return ips


def _dkim_present(rec: Any) -> bool:
    """A usable key record: present and parsed (``None`` is absent; ``{"error"}`` unparsable)."""
    return isinstance(rec, dict) and bool(rec) and not rec.get("error")


_DKIM_SHAPE = ("key_type", "bits", "revoked", "testing")


def _dkim_label(rec: dict[str, Any]) -> str:
    if rec.get("revoked"):
        return "revoked"
    bits, kind = rec.get("bits"), str(rec.get("key_type") or "rsa").upper()
    label = f"{bits}-bit {kind}" if bits else kind
    return label + (" in test mode" if rec.get("testing") else "")


def _dkim_changes(prev: dict, cur: dict, common: set[str]) -> list[Change]:
    out = []
    for s in sorted(common):
        a, b = _dkim(prev)[s], _dkim(cur)[s]
        pa, pb, subject = _dkim_present(a), _dkim_present(b), f"dkim:{s}"
        if pa and not pb:
            text = (f"DKIM selector {s} disappeared" if not b else
                    f"DKIM key of selector {s} no longer parses: {b.get('error')}")
            out.append(Change("dkim_selector_removed", subject, "block", text, a, b))
        elif pb and not pa:
            out.append(Change("dkim_selector_added", subject, "info",
                              f"DKIM selector {s} appeared ({_dkim_label(b)})", a, b))
        elif pa and pb and [a.get(k) for k in _DKIM_SHAPE] != [b.get(k) for k in _DKIM_SHAPE]:
            worse = b.get("revoked") or (b.get("bits") or 0) < (a.get("bits") or 0) or (b.get("testing") and not a.get("testing"))
            out.append(Change("dkim_key_changed", subject, "block" if b.get("revoked") else "warn" if worse else "info",
                              f"DKIM key of selector {s} changed from {_dkim_label(a)} to {_dkim_label(b)}", a, b))
        elif pa and pb and a.get("record") != b.get("record"):
            out.append(Change("dkim_key_changed", subject, "info",
                              f"DKIM key of selector {s} was replaced ({_dkim_label(b)})", a, b))
    return out


def _has(doc: dict, rule_id: str) -> bool:
    return any(f.get("rule_id") == rule_id for f in doc.get("findings") or [])


def _dmarc_policy(doc: dict) -> str | None:
    """``reject|quarantine|none``, ``invalid`` for a record that does not parse, None when absent."""
    rec = _records(doc).get("dmarc")
    if not isinstance(rec, dict) or not rec.get("record"):
        return "invalid" if _has(doc, "DMARC-INVALID") else None
    tags = rec.get("tags")
    if not isinstance(tags, dict):
        return "invalid"
    return str(tags.get("p") or "invalid").lower()


def _dmarc_changes(prev: dict, cur: dict) -> list[Change]:
    a, b = _dmarc_policy(prev), _dmarc_policy(cur)
    if a == b:
        return []
    if b is None:
        return [Change("dmarc_policy", "dmarc", "block", f"DMARC record disappeared (policy was {a})", a, b)]
    if a is None:
        return [Change("dmarc_policy", "dmarc", "info", f"DMARC record appeared with policy {b}", a, b)]
    if b == "invalid":
        return [Change("dmarc_policy", "dmarc", "block", f"DMARC record no longer parses (policy was {a})", a, b)]
    weaker = DMARC_STRENGTH.get(b, 0) < DMARC_STRENGTH.get(a, 0)
    return [Change("dmarc_policy", "dmarc", "warn" if weaker else "info",
                   f"DMARC policy changed from {a} to {b}", a, b)]


def _spf_record(doc: dict) -> str | None:
    """The SPF record text; ``(several records)`` on permerror; None when absent."""
    rec = _records(doc).get("spf")
    if isinstance(rec, dict) and rec.get("record"):
        return str(rec["record"])
    return "(several records)" if _has(doc, "SPF-MULTIPLE") else None


def _spf_changes(prev: dict, cur: dict) -> list[Change]:
    a, b = _spf_record(prev), _spf_record(cur)
    if a == b:
        return []
    if b is None:
        return [Change("spf_record", "spf", "block", f"SPF record disappeared (was \"{a}\")", a, b)]
    if a is None:
        return [Change("spf_record", "spf", "info", f"SPF record appeared: \"{b}\"", a, b)]
    return [Change("spf_record", "spf", "warn", f"SPF record changed from \"{a}\" to \"{b}\"", a, b)]


def _mx_hosts(doc: dict) -> set[str]:
    rec = _records(doc).get("mx")
    if isinstance(rec, dict):
        rec = rec.get("hosts")
    hosts = set()
    for item in rec or []:
        host = item.get("hostname") or item.get("host") or item.get("exchange") if isinstance(item, dict) else item
        if host:
            hosts.add(str(host).lower().rstrip("."))
    return hosts


def _mx_changes(prev: dict, cur: dict) -> list[Change]:
    a, b = _mx_hosts(prev), _mx_hosts(cur)
    if a == b:
        return []
    parts = [f"added {', '.join(sorted(b - a))}" if b - a else "", f"removed {', '.join(sorted(a - b))}" if a - b else ""]
    return [Change("mx", "mx", "warn" if not b else "info", "MX hosts changed: " + "; ".join(p for p in parts if p),
                   sorted(a), sorted(b))]


def _ptr_name(rec: Any) -> str | None:
    if isinstance(rec, dict):
        rec = rec.get("name") or rec.get("ptr") or rec.get("names")
    if isinstance(rec, list):
        rec = ", ".join(sorted(str(x) for x in rec)) or None
    return str(rec).lower().rstrip(".") if rec else None


def _ptr_changes(prev: dict, cur: dict, common_ips: set[str]) -> list[Change]:
    out = []
    pa, pb = _records(prev).get("ptr") or {}, _records(cur).get("ptr") or {}
    for ip in sorted(common_ips & set(pa) & set(pb)):
        if any(isinstance(r, dict) and r.get("error") for r in (pa[ip], pb[ip])):
            continue  # a failed lookup says nothing about the record
        a, b = _ptr_name(pa[ip]), _ptr_name(pb[ip])
        if a != b:
            sev = "block" if b is None else "warn"
            out.append(Change("ptr", f"ip:{ip}", sev, f"PTR of {ip} changed from {a or '(none)'} to {b or '(none)'}", a, b))
    return out


# --- findings -------------------------------------------------------------------------------

def _finding_changes(prev: dict, cur: dict, common_sel: set[str], common_ips: set[str],
                     unknown: set[str]) -> list[tuple[str | None, Change]]:
    def keyed(doc: dict) -> dict[tuple[str, str], dict]:
        out = {}
        for f in doc.get("findings") or []:
            if f.get("rule_id") in TOLD_ELSEWHERE or is_unknown(finding_unit(f), unknown):
                continue
            if (f.get("evidence") or {}).get("dns_error"):
                continue
            sel, ip = scope(f)
            if (sel is not None and sel not in common_sel) or (ip is not None and ip not in common_ips):
                continue
            out[(f["rule_id"], str(f.get("subject") or ""))] = f
        return out

    a, b = keyed(prev), keyed(cur)
    out = []
    for key in sorted(set(b) - set(a)):
        f = b[key]
        out.append((finding_unit(f), Change("finding_added", key[1] or key[0], f.get("severity", "warn"),
                                            f"New {f.get('severity', 'warn')} finding {_finding_line(f)}",
                                            None, _brief(f))))
    for key in sorted(set(a) - set(b)):
        f = a[key]
        out.append((finding_unit(f), Change("finding_resolved", key[1] or key[0], "info",
                                            f"Resolved {key[0]}: {f.get('title', key[0])}{_about(key[1])}",
                                            _brief(f), None)))
    return out


def _finding_line(f: dict[str, Any]) -> str:
    """``RULE: title (subject): detail``: what a person needs to act (which list, why)."""
    detail = str(f.get("detail") or "")
    return (f"{f['rule_id']}: {f.get('title', f['rule_id'])}{_about(str(f.get('subject') or ''))}"
            + (f": {detail}" if detail else ""))


def _about(subject: str) -> str:
    return f" ({subject})" if subject else ""


def _brief(f: dict[str, Any]) -> dict[str, Any]:
    return {k: f.get(k) for k in ("rule_id", "severity", "subject", "detail", "evidence")}


def baseline_changes(current: Any) -> list[Change]:
    """The first audit of a target: its block findings (not failed lookups), each a change worth an alert."""
    doc = as_doc(current)
    return [Change("baseline_block", str(f.get("subject") or f["rule_id"]), "block",
                   f"At first check: {_finding_line(f)}", None, _brief(f))
            for f in doc.get("findings") or []
            if f.get("severity") == "block" and f.get("rule_id") not in FAILURE_RULES
            and not (f.get("evidence") or {}).get("dns_error")]


def _iso(value: Any) -> str:
    """A time as ISO 8601 to the second (what a reader of "listed since" needs)."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return ""
