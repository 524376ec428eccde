"""What an audit actually observed: the records whose lookups failed keep their last known state.

A *unit* is one thing a lookup observes: a protocol of the domain (``spf``, ``dmarc``, ``mx``,
``mta_sts``...), one DKIM selector (``dkim:s1``), the PTR of one IP (``ptr:192.0.2.10``) or one
blocklist (``bl:zen.spamhaus.org``). When a unit's lookup failed (``DNS-LOOKUP-FAILED``, a finding
with a ``dns_error``, ``SPF-TEMPERROR``, or a list's query error), the audit says nothing about it:
its records and findings are carried forward from the last audit that saw it (``carry``), and a
unit never seen yet is *unknown*. A failure becomes a change only when it persists over two
consecutive runs (``failure_changes``), and its end is told only after that.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

# How many consecutive failed runs make a failure worth an alert: one is a transient timeout.
PERSISTENT_RUNS = 2
FAILURE_RULES = frozenset({"DNS-LOOKUP-FAILED", "SPF-TEMPERROR"})
_PROTOCOL_OF = (("SPF-", "spf"), ("DMARC-", "dmarc"), ("DKIM-", "dkim"), ("PTR-", "ptr"), ("MX-", "mx"),
                ("MTA-STS-", "mta_sts"), ("TLSRPT-", "tlsrpt"), ("BIMI-", "bimi"), ("DNSSEC-", "dnssec"))
_RECORD_NAMES = {"spf": "SPF record", "dmarc": "DMARC record", "dkim": "DKIM key", "mx": "MX records",
                 "mta_sts": "MTA-STS record", "tlsrpt": "TLS-RPT record", "bimi": "BIMI record",
                 "dnssec": "DNSSEC chain", "ptr": "PTR record", "ns": "NS records"}


def as_doc(audit: Any) -> dict[str, Any] | None:
    """A DomainAudit or its dict, as the dict."""
    return audit if isinstance(audit, dict) or audit is None else audit.to_dict()


def protocol(rule_id: str) -> str | None:
    """The protocol a rule id is about (``SPF-MISSING`` -> ``spf``), None for others."""
    return next((name for prefix, name in _PROTOCOL_OF if rule_id.startswith(prefix)), None)


def scope(f: dict[str, Any]) -> tuple[str | None, str | None]:
    """(DKIM selector, IP) a finding is about, from its evidence or subject."""
    ev = f.get("evidence") or {}
    sel, ip = ev.get("selector"), ev.get("ip")
    kind, _, rest = str(f.get("subject") or "").partition(":")
    if kind == "dkim" and rest and sel is None:
        sel = rest.split("._domainkey.", 1)[0]
    if kind == "ip" and rest and ip is None:
        ip = rest
    return sel, ip


def finding_unit(f: dict[str, Any]) -> str | None:
    """The unit a finding belongs to (``dkim:s1``, ``ptr:192.0.2.10``, ``spf``...), None for none."""
    ev = f.get("evidence") or {}
    rule = str(f.get("rule_id") or "")
    name = str(ev.get("record") or "").lower().replace("-", "_") if rule == "DNS-LOOKUP-FAILED" else protocol(rule)
    if not name:
        return None
    sel, ip = scope(f)
    if name == "dkim" and sel:
        return f"dkim:{sel}"
    if name == "ptr" and ip:
        return f"ptr:{ip}"
    return name


def _is_failure(f: dict[str, Any]) -> bool:
    return f.get("rule_id") in FAILURE_RULES or bool((f.get("evidence") or {}).get("dns_error"))


def failures(audit: Any) -> dict[str, dict[str, Any]]:
    """``unit -> {"error", "name", "subject", ...}`` for every unit whose lookup failed in ``audit``."""
    doc = as_doc(audit) or {}
    out: dict[str, dict[str, Any]] = {}
    for f in doc.get("findings") or []:
        unit = finding_unit(f) if _is_failure(f) else None
        if unit and unit not in out:
            ev = f.get("evidence") or {}
            out[unit] = {"error": str(ev.get("error") or ev.get("dns_error") or f.get("detail") or ""),
                         "name": ev.get("name"), "rdtype": ev.get("rdtype"), "subject": f.get("subject")}
    # the audit's coarse per-protocol errors count only where no finding named a finer unit
    for name, error in ((doc.get("records") or {}).get("dns_errors") or {}).items():
        if not any(u == name or u.startswith(name + ":") for u in out):
            out[name] = {"error": str(error), "name": None, "rdtype": None, "subject": None}
    by_zone: dict[str, dict[str, Any]] = {}
    for row in doc.get("blocklists") or []:
        if row.get("status") == "error":
            entry = by_zone.setdefault(f"bl:{row.get('zone')}", {"zone": row.get("zone"), "targets": [], "codes": []})
            entry["targets"].append(row.get("target"))
            entry["codes"] += [c for c in row.get("codes") or [] if c not in entry["codes"]]
    for unit, entry in by_zone.items():
        out[unit] = {"error": "; ".join(entry["codes"]), "name": entry["zone"], "rdtype": "A",
                     "subject": unit, "targets": entry["targets"]}
    return out


def covers(unit: str, other: str) -> bool:
    """True when ``unit`` is ``other`` or a coarser unit containing it (``dkim`` covers ``dkim:s1``)."""
    return other == unit or other.startswith(unit + ":")


def is_unknown(unit: str | None, unknown: set[str] | list[str]) -> bool:
    """True when ``unit`` (or the protocol containing it) has never been observed."""
    return unit is not None and any(covers(u, unit) for u in unknown)


# --- slices of a document -------------------------------------------------------------------

def _split(unit: str) -> tuple[str, str | None]:
    name, _, key = unit.partition(":")
    return name, key or None


def _in_slice(f: dict[str, Any], unit: str) -> bool:
    if f.get("rule_id") == "DNS-LOOKUP-FAILED":
        return False
    fu = finding_unit(f)
    return fu is not None and covers(unit, fu)


def get_slice(doc: dict[str, Any], unit: str) -> dict[str, Any]:
    """The records and findings of ``unit`` in ``doc`` (not the failure markers)."""
    name, key = _split(unit)
    records = doc.get("records") or {}
    rec = records.get(name)
    if key is not None:
        rec = rec.get(key) if isinstance(rec, dict) else None
    return {"record": copy.deepcopy(rec), "present": key is None or isinstance(records.get(name), dict)
            and key in records[name],
            "findings": [copy.deepcopy(f) for f in doc.get("findings") or [] if _in_slice(f, unit)]}


def put_slice(doc: dict[str, Any], unit: str, sl: dict[str, Any]) -> None:
    """Replace ``unit``'s records and findings in ``doc`` by ``sl`` (in place)."""
    name, key = _split(unit)
    records = doc.setdefault("records", {})
    if key is None:
        records[name] = copy.deepcopy(sl.get("record"))
    else:
        sub = records.get(name)
        if not isinstance(sub, dict):
            sub = records[name] = {}
        if sl.get("present", True):
            sub[key] = copy.deepcopy(sl.get("record"))
        else:
            sub.pop(key, None)
    doc["findings"] = [f for f in doc.get("findings") or [] if not _in_slice(f, unit) and not (
        _is_failure(f) and finding_unit(f) is not None and covers(unit, finding_unit(f) or ""))]
    doc["findings"] += copy.deepcopy(sl.get("findings") or [])


def carry(previous: dict[str, Any] | None, current: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """What ``current`` keeps from the effective ``previous``: (carried slices by unit, unknown units).

    ``previous`` is itself effective (``effective()``): its ``unknown`` units were never observed.
    """
    cur = as_doc(current) or {}
    before_unknown = set((previous or {}).get("unknown") or [])
    carried: dict[str, dict[str, Any]] = {}
    unknown: set[str] = set()
    for unit in failures(cur):
        if unit.startswith("bl:"):
            continue  # listings keep their state through errors on their own (diff.listed_state)
        if previous is None or is_unknown(unit, before_unknown):
            unknown.add(unit)
            continue
        carried[unit] = get_slice(previous, unit)
        unknown |= {u for u in before_unknown if covers(unit, u)}  # finer units still never seen
    return carried, sorted(unknown)


def apply(audit: Any, carried: dict[str, dict[str, Any]] | None, unknown: list[str] | None) -> dict[str, Any]:
    """A copy of ``audit`` with the carried slices put back and its ``unknown`` units named."""
    doc = copy.deepcopy(as_doc(audit) or {})
    for unit, sl in (carried or {}).items():
        put_slice(doc, unit, sl)
    doc["unknown"] = sorted(unknown or [])
    return doc


def effective(audit: Any, summary: dict[str, Any] | None) -> dict[str, Any]:
    """A stored audit as last known: its failed units replaced by what was seen before."""
    summary = summary or {}
    if "unknown" not in summary:  # stored before failed lookups were carried: they are unknown
        return apply(audit, None, [u for u in failures(audit) if not u.startswith("bl:")])
    return apply(audit, summary.get("carried"), summary.get("unknown"))


def looked_at(doc: dict[str, Any], unit: str) -> bool:
    """True when ``doc``'s audit looked at ``unit`` (a narrower audit skips selectors, IPs, lists)."""
    name, key = _split(unit)
    if name == "bl":
        return any(row.get("zone") == key for row in doc.get("blocklists") or [])
    records = doc.get("records") or {}
    if key is None:
        return name in records
    return isinstance(records.get(name), dict) and key in records[name]


# --- persistent failures --------------------------------------------------------------------

def _what(unit: str, info: dict[str, Any]) -> str:
    name, key = _split(unit)
    if name == "bl":
        targets = ", ".join(str(t) for t in info.get("targets") or [])
        return f"blocklist {key}" + (f" (for {targets})" if targets else "")
    label = _RECORD_NAMES.get(name, name)
    if name == "dkim" and key:
        label = f"DKIM key of selector {key}"
    elif name == "ptr" and key:
        label = f"PTR record of {key}"
    where = " ".join(str(x) for x in (info.get("name"), info.get("rdtype")) if x)
    return f"{label}" + (f" ({where})" if where else "")


def failure_changes(before: dict[str, dict[str, Any]] | None, audit: Any,
                    checked_at: str) -> tuple[list[tuple[str, str, str, str]], dict[str, dict[str, Any]]]:
    """(changes as (kind, subject, severity, text), the failing state after ``audit``).

    A failure is told when it reaches ``PERSISTENT_RUNS`` consecutive runs, once; its end is told
    only if it was told. The units that cross either line in one run are one change (a domain
    whose nameservers SERVFAIL is one line, not one per record).
    """
    before = before or {}
    now: dict[str, dict[str, Any]] = {}
    failed, recovered = [], []
    for unit, info in sorted(failures(audit).items()):
        old = before.get(unit) or {}
        runs = int(old.get("runs") or 0) + 1
        now[unit] = {**info, "runs": runs, "since": old.get("since") or _seconds(checked_at)}
        if runs == PERSISTENT_RUNS:
            failed.append(unit)
    doc = as_doc(audit) or {}
    for unit, old in sorted(before.items()):
        if unit in now:
            continue
        if not looked_at(doc, unit):
            now[unit] = old  # not looked at this time (a narrower audit): neither failing nor answering
        elif int(old.get("runs") or 0) >= PERSISTENT_RUNS:
            recovered.append(unit)
    out = []
    if failed:
        since = min(str(now[u]["since"]) for u in failed)
        errors = {str(now[u].get("error") or "no answer") for u in failed}
        verb = ("could not be queried" if failed[0].startswith("bl:") else "lookup failed") if len(failed) == 1 \
            else f"{len(failed)} lookups failed"
        items = [_what(u, now[u]) + ("" if len(errors) == 1 else f": {now[u].get('error') or 'no answer'}")
                 for u in failed]
        head = _cap(items[0]) + f": {verb}" if len(failed) == 1 else f"{_cap(verb)} ({'; '.join(items)})"
        tail = f": {errors.pop()}" if len(errors) == 1 else ""
        out.append(("lookup_failed", _subject(failed), "warn",
                    f"{head} in {PERSISTENT_RUNS} consecutive runs since {since}{tail}; "
                    f"{'its' if len(failed) == 1 else 'their'} last known state is kept"))
    if recovered:
        since = min(str(before[u].get("since")) for u in recovered)
        items = "; ".join(_what(u, before[u]) for u in recovered)
        out.append(("lookup_recovered", _subject(recovered), "info",
                    f"{_cap(items)} {'answers' if len(recovered) == 1 else 'answer'} again (failing since {since})"))
    return out, now


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _subject(units: list[str]) -> str:
    return units[0] if len(units) == 1 else ",".join(units)[:255]


def _seconds(when: str) -> str:
    """ISO 8601 to the second (what a reader of "since" needs)."""
    try:
        return datetime.fromisoformat(when).isoformat(timespec="seconds")
    except ValueError:
        return when
