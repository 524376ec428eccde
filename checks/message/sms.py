"""Text channels (SMS, messengers, push, voice scripts): the checks that apply to a text, not an email.

An SMS has no headers, DKIM or List-Unsubscribe, so none of the email rules of RULES.md §3 run
on it. What does apply to every text: a visible way out for marketing (38-FZ art. 18 p. 1, the
advertiser stops at once on the subscriber's demand; CASL s. 11), and the links it carries.
"""

from __future__ import annotations

import re
from typing import Any

from checks.catalogue import finding
from checks.findings import Finding
from checks.i18n import msg
from checks.message import MessageReport, _link_findings, _links_and_text
from checks.message.unsubscribe import UNSUBSCRIBE_WORDS, visible_unsubscribe

# Russian SMS practice: «Отказ: shop.example/stop», «Для отказа от рассылки…», «СТОП на 1234»,
# "Reply STOP", "STOP to 12345".
SMS_OPT_OUT = re.compile(
    r"\b(?:для\s+)?отказ(?:а|аться)?\s*(?:[:—–-]|от\s+(?:рассыл|получени|подписк|sms|смс|сообщени|реклам))"
    r"|(?:reply|text|txt|send|sms|смс|отправ\w*|ответ\w*|пришл\w*|присл\w*|напиш\w*)\s+(?:with\s+)?"
    r"[\"«'“]?(?:stop|стоп)\b"
    r"|\b(?:stop|стоп)[\"»'”]?\s*(?:на|to|в|->|→|:)?\s*\+?\d{3,}",
    re.I)
# STOP or СТОП in capitals standing alone at the end of a line ("… Отписка: STOP").
STOP_AT_END = re.compile(r"(?<![\w-])(?:STOP|СТОП)[.!]?\s*$", re.M)


def needs_opt_out(channel: str) -> bool:
    """True when the channel's text itself must show how to opt out.

    A voice call and a push notification are stopped in the call or the device settings, which
    a text cannot show.
    """
    return channel == "sms" or channel.startswith("messenger:")


def text_opt_out(text: str) -> str | None:
    """The line that tells the reader how to opt out (link, keyword or short number); None if none."""
    for pattern in (UNSUBSCRIBE_WORDS, SMS_OPT_OUT, STOP_AT_END):
        m = pattern.search(text)
        if m:
            line = next((ln for ln in text.splitlines() if m.group(0).strip() in ln), m.group(0))
            return f"instruction: {line.strip()[:200]}"
    return None


def check_text_message(*, channel: str, text: str | None, html: str | None = None, subject: str | None = None,
                       marketing: bool = True, resolver: Any = None,
                       blocklists: list[Any] | None = None) -> MessageReport:
    """The checks of a non-email message: the way out, and the links (shorteners, blocklists)."""
    links, visible = _links_and_text(html, text)
    way_out = visible_unsubscribe(links, visible) or text_opt_out(visible)
    findings: list[Finding] = []
    if marketing and needs_opt_out(channel) and not way_out:
        findings.append(finding("MSG-UNSUBSCRIBE-LINK-MISSING", msg(
            "no way to opt out in the {channel} text (e.g. «Отказ: shop.example/stop», «СТОП на 1234», "
            "\"Reply STOP\")", channel=channel)))
    findings += _link_findings(links)
    if blocklists and resolver is not None and links:
        from checks.blocklists import check_domains
        from checks.message.alignment import organisational_domain

        hosts = {lk.domain for lk in links if lk.domain}
        findings += check_domains(sorted(hosts | {organisational_domain(h) for h in hosts}),
                                  lists=list(blocklists), resolver=resolver)
    return MessageReport(findings=findings, links=[lk.to_dict() for lk in links], has_text_part=text is not None,
                         subject=subject, visible_text=visible, unsubscribe_visible=way_out)
