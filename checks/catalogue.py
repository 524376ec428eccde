"""One definition per finding id (RULES.md): severity, English title, citation, and for DNS and
blocklist findings how to fix them.

The UI, the API and the PDF reports read titles, citations and remedies from here and nowhere
else; their Russian text comes from ``checks/translations/ru/LC_MESSAGES/checks.po`` (msgid = the
English text), like every finding detail.

A rule is ``(section, id, severity, title_en, citation)``. The older 6-tuple
``(section, id, severity, title_en, title_ru, citation)`` and ``_FIXES`` pairs ``(en, ru)`` are
still accepted: their Russian text is used until ``scripts/catalogue_to_po.py`` moves it into the
catalogue (and rewrites the entry in the new form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.findings import Finding, Severity
from checks.i18n import CHECKS, gettext, has_entry, translations


@dataclass(frozen=True)
class Rule:
    """A catalogue entry; ``*_ru_fallback`` hold Russian text of old-format entries only."""

    id: str
    severity: Severity
    title_en: str
    citation: str
    section: str
    fix_en: str = ""
    title_ru_fallback: str = ""
    fix_ru_fallback: str = ""

    def title(self, lang: str = "en") -> str:
        """Title in ``lang`` (``ru`` or ``en``)."""
        return _tr(self.title_en, lang, self.title_ru_fallback)

    def fix(self, lang: str = "en") -> str:
        """How to fix it in ``lang``; empty when the catalogue gives no remedy (law and message rules)."""
        return _tr(self.fix_en, lang, self.fix_ru_fallback)

    def cite(self, lang: str = "en") -> str:
        """The citation in ``lang`` (``ст. 18.1 38-ФЗ`` for ``38-FZ art. 18.1``)."""
        return _tr(self.citation, lang)

    @property
    def title_ru(self) -> str:
        """The Russian title."""
        return self.title("ru")

    @property
    def fix_ru(self) -> str:
        """The Russian remedy."""
        return self.fix("ru")


def _tr(text: str, lang: str, fallback: str = "") -> str:
    """``text`` from the checks catalogue; an old entry's own Russian text when it has none."""
    if lang != "ru" or not text:
        return text
    if fallback and not has_entry(translations(str(CHECKS), "checks", "ru"), text):
        return fallback
    if "; " in text and not has_entry(translations(str(CHECKS), "checks", "ru"), text):
        # a citation narrowed to some jurisdictions (citation_for) is translated part by part
        return "; ".join(gettext(part, lang) for part in text.split("; "))
    return gettext(text, lang)


def cite(text: str, lang: str) -> str:
    """A citation text (a rule's, or one ``citation_for`` narrowed) in ``lang``."""
    return _tr(text, lang)


def citation_translated(text: str) -> bool:
    """Whether ``text`` has Russian: as a whole, or each of its ``; ``-separated parts."""
    t = translations(str(CHECKS), "checks", "ru")
    return has_entry(t, text) or all(has_entry(t, part) for part in text.split("; "))


_RULES: list[tuple[str, ...]] = [
    # section, id, severity, title_en, citation
    ("dns", "SPF-MISSING", "block", "No SPF record", "RFC 7208; Gmail/Yahoo bulk-sender rules"),
    ("dns", "SPF-MULTIPLE", "block", "More than one SPF record", "RFC 7208 §4.5"),
    ("dns", "SPF-SYNTAX", "block", "SPF record does not parse", "RFC 7208 §4.6"),
    ("dns", "SPF-TOO-MANY-LOOKUPS", "block", "SPF needs more than 10 DNS lookups", "RFC 7208 §4.6.4"),
    ("dns", "SPF-VOID-LOOKUPS", "warn", "SPF has more than 2 void lookups", "RFC 7208 §4.6.4"),
    ("dns", "SPF-PASS-ALL", "block", "SPF allows anyone to send (+all)", "RFC 7208 §5.1"),
    ("dns", "SPF-NEUTRAL-ALL", "warn", "SPF ends neutral (?all or no all)", "RFC 7208 §4.7"),
    ("dns", "SPF-PTR", "warn", "SPF uses the ptr mechanism", "RFC 7208 §5.5"),
    ("dns", "SPF-IP-NOT-AUTHORISED", "block", "A sending IP is not authorised by SPF", "RFC 7208 §4"),
    ("dns", "DMARC-MISSING", "block", "No DMARC record", "RFC 7489; Gmail/Yahoo/Outlook rules"),
    ("dns", "DMARC-INVALID", "block", "DMARC record is invalid", "RFC 7489 §6.3"),
    ("dns", "DMARC-POLICY-NONE", "warn", "DMARC policy is p=none (monitoring only)", "RFC 7489 §6.3"),
    ("dns", "DMARC-PCT-PARTIAL", "warn", "DMARC applies to less than 100% of mail", "RFC 7489 §6.3"),
    ("dns", "DMARC-NO-RUA", "warn", "DMARC has no aggregate report address", "RFC 7489 §7.2"),
    ("dns", "DMARC-RUA-UNAUTHORISED", "warn", "External DMARC report domain has not authorised reports", "RFC 7489 §7.1"),
    ("dns", "DMARC-WEAK-SUBDOMAIN", "warn", "DMARC subdomain policy is weaker (sp=none)", "RFC 7489 §6.3"),
    ("dns", "DKIM-KEY-MISSING", "block", "DKIM selector has no key", "RFC 6376 §3.6"),
    ("dns", "DKIM-KEY-REVOKED", "block", "DKIM key is revoked (empty p=)", "RFC 6376 §3.6.1"),
    ("dns", "DKIM-KEY-WEAK", "block", "DKIM RSA key under 1024 bits", "RFC 8301 §3.2"),
    ("dns", "DKIM-KEY-SHORT", "warn", "DKIM RSA key shorter than 2048 bits", "RFC 8301 §3.2"),
    ("dns", "DKIM-TEST-MODE", "warn", "DKIM key is in test mode (t=y)", "RFC 6376 §3.6.1"),
    ("dns", "PTR-MISSING", "block", "Sending IP has no PTR record", "Gmail/Yahoo bulk-sender rules"),
    ("dns", "PTR-NOT-CONFIRMED", "block", "PTR name does not resolve back to the IP (no FCrDNS)", "Gmail bulk-sender rules; RFC 8601 §3"),
    ("dns", "MX-MISSING", "warn", "Domain has no MX", "RFC 5321 §5; RFC 7505"),
    ("dns", "MTA-STS-MISSING", "info", "No MTA-STS record", "RFC 8461"),
    ("dns", "MTA-STS-INVALID", "warn", "MTA-STS record or policy invalid", "RFC 8461"),
    ("dns", "TLSRPT-MISSING", "info", "No TLS-RPT record", "RFC 8460"),
    ("dns", "BIMI-MISSING", "info", "No BIMI record", "BIMI draft"),
    ("dns", "DNSSEC-UNSIGNED", "info", "Zone is not DNSSEC-signed", "RFC 4033"),
    ("blocklists", "BL-IP-LISTED", "block", "Sending IP is on a blocklist", "RFC 5782"),
    ("blocklists", "BL-IP-LISTED-MINOR", "warn", "Sending IP is on a minor blocklist", "RFC 5782"),
    ("blocklists", "BL-DOMAIN-LISTED", "block", "Sending domain is on a domain blocklist", "RFC 5782 §2.2"),
    ("blocklists", "BL-LINK-DOMAIN-LISTED", "block", "A linked domain is on a domain blocklist", "RFC 5782 §2.2"),
    ("blocklists", "BL-QUERY-ERROR", "warn", "Blocklist query failed or list is broken", "RFC 5782 §5"),
    ("message", "MSG-HEADER-INVALID", "block", "From, Date or Message-ID missing or invalid", "RFC 5322 §3.6; Gmail rules"),
    ("message", "MSG-DKIM-UNSIGNED", "block", "Message has no DKIM signature", "Gmail/Yahoo rules"),
    ("message", "MSG-DKIM-FAIL", "block", "DKIM signature does not verify", "RFC 6376"),
    ("message", "MSG-NOT-ALIGNED", "block", "Neither DKIM nor SPF domain aligns with From", "RFC 7489 §3.1"),
    ("message", "MSG-LIST-UNSUBSCRIBE-MISSING", "block", "Marketing message without List-Unsubscribe", "RFC 2369; Gmail/Yahoo rules"),
    ("message", "MSG-ONE-CLICK-MISSING", "block", "No RFC 8058 one-click unsubscribe", "RFC 8058 §3.1, §4"),
    ("message", "MSG-UNSUBSCRIBE-LINK-MISSING", "block", "No visible unsubscribe link in the body", "38-FZ art. 18; CAN-SPAM; CASL"),
    ("message", "MSG-SIZE-CLIPPED", "warn", "HTML over 102 KB: Gmail clips it", "Gmail behaviour"),
    ("message", "MSG-NO-TEXT-PART", "info", "HTML without a text/plain alternative", "RFC 2046"),
    ("message", "MSG-LINK-TEXT-MISMATCH", "warn", "Link text shows a different domain than its target", "phishing pattern"),
    ("message", "MSG-LINK-SHORTENER", "warn", "Links through a public URL shortener", "URIBL practice"),
    ("consent", "CONSENT-NONE", "block", "No consent for this channel and purpose", "38-FZ art. 18 p. 1; GDPR art. 6-7; ePrivacy art. 13; CASL s. 6"),
    ("consent", "CONSENT-WITHDRAWN", "block", "Consent withdrawn (unsubscribed)", "38-FZ art. 18 p. 1; 152-FZ art. 15 p. 2; 152-FZ art. 21 p. 5; GDPR art. 21(3); CAN-SPAM §7704(a)(4)"),
    ("consent", "CONSENT-EXPIRED", "block", "Consent has expired", "CASL s. 10(10)"),
    ("consent", "CONSENT-UNCONFIRMED", "warn", "Consent not confirmed by double opt-in", "organisation policy; M3AAWG"),
    ("consent", "CONSENT-ERASED", "block", "Subject was erased", "152-FZ art. 21; GDPR art. 17"),
    ("consent", "CONSENT-EVIDENCE-WEAK", "warn", "Consent lacks evidence (source, time, notice version or hash)", "38-FZ art. 18 p. 1; GDPR art. 7(1)"),
    ("RU", "RU-38FZ-18-CONSENT", "block", "Advertising without the recipient's prior consent", "38-FZ art. 18 p. 1"),
    ("RU", "RU-152FZ-15-DIRECT-MARKETING", "block", "Direct marketing with personal data without prior consent", "152-FZ art. 15 p. 1-2"),
    ("RU", "RU-38FZ-18-AUTO", "block", "SMS/voice advertising to recipients not drawn from consented subjects", "38-FZ art. 18 p. 2"),
    ("RU", "RU-38FZ-18.1-MARKING", "warn", "Internet advertising without «Реклама» label, advertiser or erid", "38-FZ art. 18.1"),
    ("RU", "RU-152FZ-9-CONSENT-CONTENT", "warn", "Consent notice lacks required content", "152-FZ art. 9 p. 4"),
    ("RU", "RU-152FZ-9-SEPARATE", "warn", "Consent not collected as a separate document", "152-FZ art. 9 p. 1 as amended"),
    ("RU", "RU-152FZ-18-LOCALISATION", "warn", "Processing of Russian subjects outside Russia", "152-FZ art. 18 p. 5"),
    ("RU", "RU-152FZ-12-CROSS-BORDER", "warn", "Cross-border transfer without recorded notification", "152-FZ art. 12"),
    ("RU", "RU-126FZ-44.1-SENDER", "warn", "SMS campaign without a registered sender name", "126-FZ art. 44.1"),
    ("EU", "EU-EPRIVACY-13-CONSENT", "block", "Marketing email without consent or soft opt-in", "Directive 2002/58/EC art. 13(1)-(2); UK PECR reg. 22"),
    ("EU", "EU-GDPR-7-DEMONSTRABLE", "block", "Consent cannot be demonstrated", "GDPR art. 7(1)"),
    ("EU", "EU-GDPR-CONSENT-QUALITY", "warn", "Consent by pre-ticked box or bundled", "GDPR art. 4(11), 7(2); CJEU C-673/17 Planet49"),
    ("US", "US-CANSPAM-OPT-OUT", "block", "No working opt-out mechanism", "15 U.S.C. §7704(a)(3)"),
    ("US", "US-CANSPAM-ADDRESS", "block", "No valid physical postal address", "15 U.S.C. §7704(a)(5)(A)(iii)"),
    ("US", "US-CANSPAM-AD-LABEL", "warn", "Not identified as an advertisement", "15 U.S.C. §7704(a)(5)(A)(i)"),
    ("US", "US-CANSPAM-HEADER", "block", "Misleading From, Reply-To or routing information", "15 U.S.C. §7704(a)(1)"),
    ("US", "US-CANSPAM-SUBJECT", "warn", "Misleading subject line", "15 U.S.C. §7704(a)(2)"),
    ("CA", "CA-CASL-CONSENT", "block", "No express or valid implied consent", "CASL s. 6(1)(a), s. 10(9)-(10)"),
    ("CA", "CA-CASL-IDENTIFICATION", "block", "Sender identification or contact missing", "CASL s. 6(2)(a)-(b); CRTC regs"),
    ("CA", "CA-CASL-UNSUBSCRIBE", "block", "No unsubscribe mechanism", "CASL s. 6(2)(c), s. 11"),
    ("bulk", "BULK-AUTH", "block", "SPF and DKIM do not both pass", "Gmail / Yahoo (Feb 2024), Outlook (May 2025)"),
    ("bulk", "BULK-DMARC", "block", "No DMARC record, or From not aligned", "Gmail / Yahoo (Feb 2024), Outlook (May 2025)"),
    ("bulk", "BULK-ONE-CLICK", "block", "Marketing message without one-click unsubscribe", "Gmail / Yahoo"),
    ("bulk", "BULK-UNSUBSCRIBE-LATENCY", "warn", "Unsubscribes not honoured within 2 days", "Gmail / Yahoo"),
    ("bulk", "BULK-SPAM-RATE", "warn", "Reported spam rate too high", "Gmail Postmaster guidance"),
    ("channel", "SMS-QUIET-HOURS", "warn", "Advertising SMS outside 09:00-21:00 local time", "operator practice; configurable"),
    ("dns", "DNS-LOOKUP-FAILED", "warn", "DNS lookup failed: the record's state is unknown", "RFC 1035; RFC 8914"),
    ("dns", "SPF-TEMPERROR", "warn", "DNS failure while evaluating SPF (temperror)", "RFC 7208 §2.6.6"),
    ("dns", "DMARC-RUF-UNAUTHORISED", "warn", "External ruf domain has not authorised reports", "RFC 7489 §7.1"),
    ("dns", "DKIM-KEY-SHA1", "warn", "DKIM key allows only SHA-1", "RFC 8301 §3.1"),
    ("dns", "DKIM-SELECTOR-DANGLING", "block", "DKIM selector is a CNAME to a name that does not exist", "RFC 6376 §3.6.2.1"),
    ("dns", "DNSSEC-BOGUS", "block", "DNSSEC chain does not validate", "RFC 4035 §5.5"),
    ("dns", "MTA-STS-MX-MISMATCH", "block", "MTA-STS enforce policy does not list an MX host", "RFC 8461 §4.1"),
    ("dns", "MTA-STS-TESTING", "info", "MTA-STS policy not enforced or short-lived", "RFC 8461 §3.2"),
    ("dns", "BIMI-INVALID", "warn", "BIMI record is unusable", "BIMI draft §4"),
    ("dns", "BIMI-NO-ENFORCEMENT", "warn", "BIMI published while DMARC does not enforce", "BIMI draft §4.1; Gmail/Yahoo BIMI requirements"),
    ("delivery", "DELIVERY-HARD-BOUNCE", "block", "The address hard-bounced", "RFC 3463 (5.x.x status); Gmail / Yahoo bulk sender rules (list hygiene)"),
    ("RU", "RU-38FZ-18-LEGAL-BASIS", "block", "Advertising on a legal basis other than prior consent", "38-FZ art. 18 p. 1; 152-FZ art. 15 p. 1"),
    ("consent", "POLICY-SEVERITY-CHANGED", "info", "The organisation policy changes a rule's severity", "organisation policy (RULES.md: every change needs a reason)"),
    ("dns", "DMARC-SOURCE-UNAUTHORISED", "warn", "An unauthorised source sends as the domain", "RFC 7489 §7.2 (aggregate reports)"),
    ("dns", "DMARC-ALIGNMENT-LOW", "warn", "An authorised source passes DMARC for under 98% of its mail", "RFC 7489 §3.1; Gmail/Yahoo rules (alignment)"),
    ("dns", "DKIM-SELECTOR-LEARNED", "info", "A DKIM selector seen in reports or messages was added to monitoring", "RFC 6376 §3.1"),
    ("dns", "TLSRPT-FAILURES", "warn", "SMTP TLS reports show failed sessions to the domain's MX", "RFC 8460"),
    ("delivery", "DELIVERY-AFTER-WITHDRAWAL", "block", "Delivered after the person withdrew consent", "38-FZ art. 18 p. 1 (stop immediately); Gmail / Yahoo rules (within 2 days); GDPR art. 21(3)"),
    ("delivery", "SLA-DELIVERY-RATE", "warn", "Delivery rate under the contractor's SLA", "the organisation's contract"),
    ("delivery", "SLA-BOUNCE-RATE", "warn", "Bounce rate over the contractor's SLA", "the organisation's contract"),
    ("delivery", "SLA-COMPLAINT-RATE", "warn", "Complaint rate over the contractor's SLA", "the organisation's contract; Gmail Postmaster (0.1% / 0.3%)"),
    ("delivery", "SLA-UNSUBSCRIBE-LATENCY", "warn", "An unsubscribe was honoured later than the SLA", "the contract; RFC 8058; Gmail / Yahoo rules"),
    ("delivery", "SLA-REPORT-LATE", "info", "Delivery events arrived later than the SLA allows", "the contract"),
]

# Remedies (English, Russian) shown in the domain report next to each DNS and blocklist finding.
_FIXES: dict[str, str | tuple[str, str]] = {
    "SPF-MISSING": "Publish one TXT record at the domain: v=spf1 with your sending IPs or include: of your provider, ending in -all or ~all.",
    "SPF-MULTIPLE": "Merge the SPF records into one TXT record starting with v=spf1.",
    "SPF-SYNTAX": "Correct the record's syntax (mechanisms, qualifiers, spaces) and check it again.",
    "SPF-TOO-MANY-LOOKUPS": "Flatten nested include: chains or replace them with ip4:/ip6: ranges to stay within 10 lookups.",
    "SPF-VOID-LOOKUPS": "Remove include:, a or mx terms that point at names without records.",
    "SPF-PASS-ALL": "Replace +all with -all (or ~all while you test).",
    "SPF-NEUTRAL-ALL": "End the record with -all or ~all.",
    "SPF-PTR": "Replace ptr with explicit ip4:/ip6: or include: terms.",
    "SPF-IP-NOT-AUTHORISED": "Add the sending IP (ip4:/ip6:) or your provider's include: to SPF.",
    "DMARC-MISSING": "Publish a TXT record at _dmarc.<domain>: v=DMARC1; p=quarantine; rua=mailto:<reports address>.",
    "DMARC-INVALID": "Rewrite the record as v=DMARC1; p=...; with valid tags only.",
    "DMARC-POLICY-NONE": "Once reports show aligned mail, move to p=quarantine, then p=reject.",
    "DMARC-PCT-PARTIAL": "Remove pct= or set pct=100.",
    "DMARC-NO-RUA": "Add rua=mailto:<address> to receive aggregate reports.",
    "DMARC-RUA-UNAUTHORISED": "Ask the report domain to publish <your domain>._report._dmarc.<their domain> TXT \"v=DMARC1\".",
    "DMARC-WEAK-SUBDOMAIN": "Set sp= to quarantine or reject, or remove it.",
    "DKIM-KEY-MISSING": "Publish the selector's public key at <selector>._domainkey.<domain>.",
    "DKIM-KEY-REVOKED": "Sign with a selector that has a live key, or publish a new key.",
    "DKIM-KEY-WEAK": "Generate a 2048-bit RSA (or Ed25519) key and rotate the selector.",
    "DKIM-KEY-SHORT": "Rotate to a 2048-bit RSA key.",
    "DKIM-TEST-MODE": "Remove t=y from the key record once signing works.",
    "PTR-MISSING": "Ask the IP's owner (hosting provider) to set a PTR to a name that resolves back to the IP.",
    "PTR-NOT-CONFIRMED": "Add an A/AAAA record for the PTR name pointing at the sending IP.",
    "MX-MISSING": "Publish an MX so bounces and replies can reach you (or a null MX, RFC 7505, if you receive none).",
    "MTA-STS-MISSING": "Publish _mta-sts TXT and the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt.",
    "MTA-STS-INVALID": "Correct the TXT id and the policy file (version, mode, mx, max_age).",
    "TLSRPT-MISSING": "Publish _smtp._tls TXT \"v=TLSRPTv1; rua=mailto:<address>\".",
    "BIMI-MISSING": "Optional: publish default._bimi TXT with your logo once DMARC enforces.",
    "DNSSEC-UNSIGNED": "Enable DNSSEC at your DNS host and publish the DS record at the registrar.",
    "BL-IP-LISTED": "Find and stop the cause (compromised host, bad list), then request delisting on the list's site.",
    "BL-IP-LISTED-MINOR": "Check the cause and request delisting; watch bounce rates.",
    "BL-DOMAIN-LISTED": "Stop the mail that caused the listing and request delisting for the domain.",
    "BL-LINK-DOMAIN-LISTED": "Remove or replace links to the listed domain.",
    "BL-QUERY-ERROR": "Check the list's zone and your resolver; a broken list answers every query.",
    "DNS-LOOKUP-FAILED": "Check that every authoritative nameserver of the zone answers this name (no timeout, SERVFAIL or REFUSED), then run the check again.",
    "SPF-TEMPERROR": "Make the names in include: and redirect= answer reliably (their nameservers fail), or replace them with ip4:/ip6: ranges.",
    "DMARC-RUF-UNAUTHORISED": "Ask the ruf domain to publish <your domain>._report._dmarc.<their domain> TXT \"v=DMARC1\", or remove the address.",
    "DKIM-KEY-SHA1": "Remove h=sha1 (or add sha256) and sign with rsa-sha256 or ed25519-sha256.",
    "DKIM-SELECTOR-DANGLING": "Remove the selector's CNAME or point it at a live key record of your provider now: whoever registers the target can sign as you.",
    "DNSSEC-BOGUS": "Re-sign the zone (expired or wrong RRSIG) or make the DS at the registrar match the zone's key; remove the DS if you turn DNSSEC off.",
    "MTA-STS-MX-MISMATCH": "List every MX host in the policy's mx: lines (wildcards cover one label), then change the id in _mta-sts.",
    "MTA-STS-TESTING": "When TLS reports show no failures, switch the policy to mode: enforce with max_age of at least 86400 (weeks are usual).",
    "BIMI-INVALID": "Publish v=BIMI1; l=https://<host>/<logo>.svg (SVG Tiny PS over HTTPS) with valid tags.",
    "BIMI-NO-ENFORCEMENT": "Move DMARC to p=quarantine or p=reject with pct=100; mailbox providers show no logo before that.",
    "DMARC-SOURCE-UNAUTHORISED": "If the host is yours or your provider's, add it to SPF and sign with an aligned DKIM key; otherwise it is spoofing: move DMARC towards p=reject.",
    "DMARC-ALIGNMENT-LOW": "Find the failing streams of this source (DKIM signing off, another envelope domain) and align them.",
    "DKIM-SELECTOR-LEARNED": "Confirm the selector is yours (or your ESP's) and keep its key at 2048-bit RSA or Ed25519; remove keys you no longer sign with.",
    "TLSRPT-FAILURES": "Check the MX certificates, MTA-STS policy and DANE records named in the failure details.",
}

def _rule(entry: tuple[str, ...]) -> Rule:
    """A Rule from a 5-tuple, or from an old 6-tuple with its Russian title."""
    if len(entry) == 6:
        sec, rid, sev, en, ru, cit = entry
    else:
        (sec, rid, sev, en, cit), ru = entry, ""
    fix = _FIXES.get(rid, "")
    fix_en, fix_ru = (fix, "") if isinstance(fix, str) else fix
    return Rule(rid, sev, en, cit, sec, fix_en, ru, fix_ru)  # type: ignore[arg-type]


RULES: dict[str, Rule] = {entry[1]: _rule(entry) for entry in _RULES}


def rule(rule_id: str) -> Rule:
    """The catalogue entry for ``rule_id``; KeyError names unknown ids."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule id {rule_id!r}; add it to checks/catalogue.py") from None


def finding(
    rule_id: str,
    detail: str = "",
    *,
    subject: str = "message",
    evidence: dict[str, Any] | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A Finding whose title, citation and default severity come from the catalogue."""
    r = rule(rule_id)
    return Finding(
        rule_id=r.id,
        severity=severity or r.severity,
        title=r.title_en,
        detail=detail,
        citation=r.citation,
        subject=subject,
        evidence=evidence or {},
    )


# Citations of rules that several laws ground, one part per jurisdiction ("US:email": only on that
# channel). A finding cites the parts of its campaign's jurisdictions only; "" is cited when none of
# them has a part (CONSENT-NONE on a US email: CAN-SPAM asks no prior consent, so the rule is the
# organisation's). Without declared jurisdictions the finding keeps the full citation above.
CITATION_PARTS: dict[str, dict[str, str]] = {
    "CONSENT-NONE": {"RU": "38-FZ art. 18 p. 1", "EU": "GDPR art. 6-7; ePrivacy art. 13",
                     "UK": "UK GDPR art. 6-7; PECR reg. 22", "CA": "CASL s. 6",
                     "US:sms": "47 U.S.C. §227(b)(1)(A)(iii) (TCPA)", "": "organisation policy"},
    "CONSENT-WITHDRAWN": {"RU": "38-FZ art. 18 p. 1; 152-FZ art. 15 p. 2; 152-FZ art. 21 p. 5",
                          "EU": "GDPR art. 21(3)", "UK": "UK GDPR art. 21(3)", "US:email": "CAN-SPAM §7704(a)(4)",
                          "CA": "CASL s. 11(3)", "": "organisation policy"},
    "CONSENT-EXPIRED": {"CA": "CASL s. 10(10)", "": "the consent's recorded expiry"},
    "CONSENT-ERASED": {"RU": "152-FZ art. 21", "EU": "GDPR art. 17", "UK": "UK GDPR art. 17",
                       "": "organisation policy"},
    "CONSENT-EVIDENCE-WEAK": {"RU": "38-FZ art. 18 p. 1", "EU": "GDPR art. 7(1)", "UK": "UK GDPR art. 7(1)",
                              "": "organisation policy"},
    "MSG-UNSUBSCRIBE-LINK-MISSING": {"RU": "38-FZ art. 18", "US:email": "CAN-SPAM", "CA": "CASL",
                                     "": "organisation policy"},
}


def citation_for(rule_id: str, jurisdictions: list[str] | tuple[str, ...] = (), channel: str | None = None) -> str:
    """The citation of ``rule_id`` in a campaign under ``jurisdictions`` on ``channel``: only their parts."""
    parts = CITATION_PARTS.get(rule_id)
    if not parts or not jurisdictions:
        return rule(rule_id).citation
    wanted = {j.upper() for j in jurisdictions}
    kind = (channel or "").split(":", 1)[0]
    cited: list[str] = []
    for key, text in parts.items():
        j, _, only = key.partition(":")
        if j in wanted and (not only or only == kind) and text not in cited:
            cited.append(text)
    return "; ".join(cited) or parts.get("", rule(rule_id).citation)


def localised(d: dict[str, Any], lang: str) -> dict[str, Any]:
    """A stored finding dict with title, citation, detail and remedy in ``lang`` (for an API that
    honours ``Accept-Language`` or ``?lang=``); unknown ids keep their stored text."""
    from checks.i18n import detail_of

    r = RULES.get(d.get("rule_id", ""))
    out = {**d, "detail": detail_of(d, lang), "lang": lang}
    if r:
        # a stored citation is narrowed to the campaign's jurisdictions (citation_for): keep it
        out.update(title=r.title(lang), citation=cite(d.get("citation") or r.citation, lang), remedy=r.fix(lang))
    return out
