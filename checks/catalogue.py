"""One definition per finding id (RULES.md): severity, titles in English and Russian, citation,
and for DNS and blocklist findings how to fix them.

The UI, the API and the PDF reports read titles and citations from here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.findings import Finding, Severity


@dataclass(frozen=True)
class Rule:
    """A catalogue entry."""

    id: str
    severity: Severity
    title_en: str
    title_ru: str
    citation: str
    section: str
    fix_en: str = ""
    fix_ru: str = ""

    def title(self, lang: str = "en") -> str:
        """Title in ``lang`` (``ru`` or ``en``)."""
        return self.title_ru if lang == "ru" else self.title_en

    def fix(self, lang: str = "en") -> str:
        """How to fix it in ``lang``; empty when the catalogue gives no remedy (law and message rules)."""
        return self.fix_ru if lang == "ru" else self.fix_en


_RULES: list[tuple[str, str, str, str, str, str]] = [
    # section, id, severity, title_en, title_ru, citation
    ("dns", "SPF-MISSING", "block", "No SPF record", "Нет записи SPF", "RFC 7208; Gmail/Yahoo bulk-sender rules"),
    ("dns", "SPF-MULTIPLE", "block", "More than one SPF record", "Несколько записей SPF", "RFC 7208 §4.5"),
    ("dns", "SPF-SYNTAX", "block", "SPF record does not parse", "Запись SPF не разбирается", "RFC 7208 §4.6"),
    ("dns", "SPF-TOO-MANY-LOOKUPS", "block", "SPF needs more than 10 DNS lookups", "SPF требует более 10 DNS-запросов", "RFC 7208 §4.6.4"),
    ("dns", "SPF-VOID-LOOKUPS", "warn", "SPF has more than 2 void lookups", "В SPF более 2 пустых запросов", "RFC 7208 §4.6.4"),
    ("dns", "SPF-PASS-ALL", "block", "SPF allows anyone to send (+all)", "SPF разрешает отправку всем (+all)", "RFC 7208 §5.1"),
    ("dns", "SPF-NEUTRAL-ALL", "warn", "SPF ends neutral (?all or no all)", "SPF завершается нейтрально (?all или без all)", "RFC 7208 §4.7"),
    ("dns", "SPF-PTR", "warn", "SPF uses the ptr mechanism", "SPF использует механизм ptr", "RFC 7208 §5.5"),
    ("dns", "SPF-IP-NOT-AUTHORISED", "block", "A sending IP is not authorised by SPF", "IP-адрес отправки не разрешён в SPF", "RFC 7208 §4"),
    ("dns", "DMARC-MISSING", "block", "No DMARC record", "Нет записи DMARC", "RFC 7489; Gmail/Yahoo/Outlook rules"),
    ("dns", "DMARC-INVALID", "block", "DMARC record is invalid", "Запись DMARC некорректна", "RFC 7489 §6.3"),
    ("dns", "DMARC-POLICY-NONE", "warn", "DMARC policy is p=none (monitoring only)", "Политика DMARC p=none (только мониторинг)", "RFC 7489 §6.3"),
    ("dns", "DMARC-PCT-PARTIAL", "warn", "DMARC applies to less than 100% of mail", "DMARC применяется не ко всей почте (pct<100)", "RFC 7489 §6.3"),
    ("dns", "DMARC-NO-RUA", "warn", "DMARC has no aggregate report address", "В DMARC нет адреса агрегированных отчётов", "RFC 7489 §7.2"),
    ("dns", "DMARC-RUA-UNAUTHORISED", "warn", "External DMARC report domain has not authorised reports", "Внешний домен отчётов DMARC не дал согласия", "RFC 7489 §7.1"),
    ("dns", "DMARC-WEAK-SUBDOMAIN", "warn", "DMARC subdomain policy is weaker (sp=none)", "Политика DMARC для поддоменов слабее (sp=none)", "RFC 7489 §6.3"),
    ("dns", "DKIM-KEY-MISSING", "block", "DKIM selector has no key", "Для селектора DKIM нет ключа", "RFC 6376 §3.6"),
    ("dns", "DKIM-KEY-REVOKED", "block", "DKIM key is revoked (empty p=)", "Ключ DKIM отозван (пустой p=)", "RFC 6376 §3.6.1"),
    ("dns", "DKIM-KEY-WEAK", "block", "DKIM RSA key under 1024 bits", "Ключ DKIM RSA короче 1024 бит", "RFC 8301 §3.2"),
    ("dns", "DKIM-KEY-SHORT", "warn", "DKIM RSA key shorter than 2048 bits", "Ключ DKIM RSA короче 2048 бит", "RFC 8301 §3.2"),
    ("dns", "DKIM-TEST-MODE", "warn", "DKIM key is in test mode (t=y)", "Ключ DKIM в тестовом режиме (t=y)", "RFC 6376 §3.6.1"),
    ("dns", "PTR-MISSING", "block", "Sending IP has no PTR record", "У IP-адреса отправки нет записи PTR", "Gmail/Yahoo bulk-sender rules"),
    ("dns", "PTR-NOT-CONFIRMED", "block", "PTR name does not resolve back to the IP (no FCrDNS)", "Имя PTR не указывает обратно на IP (нет FCrDNS)", "Gmail bulk-sender rules; RFC 8601 §3"),
    ("dns", "MX-MISSING", "warn", "Domain has no MX", "У домена нет MX", "RFC 5321 §5; RFC 7505"),
    ("dns", "MTA-STS-MISSING", "info", "No MTA-STS record", "Нет записи MTA-STS", "RFC 8461"),
    ("dns", "MTA-STS-INVALID", "warn", "MTA-STS record or policy invalid", "Запись или политика MTA-STS некорректна", "RFC 8461"),
    ("dns", "TLSRPT-MISSING", "info", "No TLS-RPT record", "Нет записи TLS-RPT", "RFC 8460"),
    ("dns", "BIMI-MISSING", "info", "No BIMI record", "Нет записи BIMI", "BIMI draft"),
    ("dns", "DNSSEC-UNSIGNED", "info", "Zone is not DNSSEC-signed", "Зона не подписана DNSSEC", "RFC 4033"),
    ("blocklists", "BL-IP-LISTED", "block", "Sending IP is on a blocklist", "IP-адрес отправки в чёрном списке", "RFC 5782"),
    ("blocklists", "BL-IP-LISTED-MINOR", "warn", "Sending IP is on a minor blocklist", "IP-адрес отправки в второстепенном чёрном списке", "RFC 5782"),
    ("blocklists", "BL-DOMAIN-LISTED", "block", "Sending domain is on a domain blocklist", "Домен отправки в чёрном списке доменов", "RFC 5782 §2.2"),
    ("blocklists", "BL-LINK-DOMAIN-LISTED", "block", "A linked domain is on a domain blocklist", "Домен ссылки в чёрном списке доменов", "RFC 5782 §2.2"),
    ("blocklists", "BL-QUERY-ERROR", "warn", "Blocklist query failed or list is broken", "Ошибка запроса к чёрному списку или список неисправен", "RFC 5782 §5"),
    ("message", "MSG-HEADER-INVALID", "block", "From, Date or Message-ID missing or invalid", "From, Date или Message-ID отсутствует или некорректен", "RFC 5322 §3.6; Gmail rules"),
    ("message", "MSG-DKIM-UNSIGNED", "block", "Message has no DKIM signature", "Сообщение не подписано DKIM", "Gmail/Yahoo rules"),
    ("message", "MSG-DKIM-FAIL", "block", "DKIM signature does not verify", "Подпись DKIM не проходит проверку", "RFC 6376"),
    ("message", "MSG-NOT-ALIGNED", "block", "Neither DKIM nor SPF domain aligns with From", "Ни домен DKIM, ни домен SPF не совпадает с From", "RFC 7489 §3.1"),
    ("message", "MSG-LIST-UNSUBSCRIBE-MISSING", "block", "Marketing message without List-Unsubscribe", "Рекламное письмо без List-Unsubscribe", "RFC 2369; Gmail/Yahoo rules"),
    ("message", "MSG-ONE-CLICK-MISSING", "block", "No RFC 8058 one-click unsubscribe", "Нет отписки в один клик (RFC 8058)", "RFC 8058 §3.1, §4"),
    ("message", "MSG-UNSUBSCRIBE-LINK-MISSING", "block", "No visible unsubscribe link in the body", "В тексте нет видимой ссылки для отписки", "38-FZ art. 18; CAN-SPAM; CASL"),
    ("message", "MSG-SIZE-CLIPPED", "warn", "HTML over 102 KB: Gmail clips it", "HTML больше 102 КБ: Gmail его обрежет", "Gmail behaviour"),
    ("message", "MSG-NO-TEXT-PART", "info", "HTML without a text/plain alternative", "HTML без текстовой альтернативы", "RFC 2046"),
    ("message", "MSG-LINK-TEXT-MISMATCH", "warn", "Link text shows a different domain than its target", "Текст ссылки показывает другой домен, чем её адрес", "phishing pattern"),
    ("message", "MSG-LINK-SHORTENER", "warn", "Links through a public URL shortener", "Ссылки через публичный сокращатель", "URIBL practice"),
    ("consent", "CONSENT-NONE", "block", "No consent for this channel and purpose", "Нет согласия на этот канал и цель", "38-FZ art. 18 p. 1; GDPR art. 6-7; ePrivacy art. 13; CASL s. 6"),
    ("consent", "CONSENT-WITHDRAWN", "block", "Consent withdrawn (unsubscribed)", "Согласие отозвано (отписка)", "38-FZ art. 18 p. 1; 152-FZ art. 15 p. 2; 152-FZ art. 21 p. 5; GDPR art. 21(3); CAN-SPAM §7704(a)(4)"),
    ("consent", "CONSENT-EXPIRED", "block", "Consent has expired", "Срок согласия истёк", "CASL s. 10(10)"),
    ("consent", "CONSENT-UNCONFIRMED", "warn", "Consent not confirmed by double opt-in", "Согласие не подтверждено (double opt-in)", "organisation policy; M3AAWG"),
    ("consent", "CONSENT-ERASED", "block", "Subject was erased", "Субъект удалён", "152-FZ art. 21; GDPR art. 17"),
    ("consent", "CONSENT-EVIDENCE-WEAK", "warn", "Consent lacks evidence (source, time, notice version or hash)", "У согласия нет доказательств (источник, время, версия или хеш текста)", "38-FZ art. 18 p. 1; GDPR art. 7(1)"),
    ("RU", "RU-38FZ-18-CONSENT", "block", "Advertising without the recipient's prior consent", "Реклама без предварительного согласия абонента", "38-FZ art. 18 p. 1"),
    ("RU", "RU-152FZ-15-DIRECT-MARKETING", "block", "Direct marketing with personal data without prior consent", "Прямой маркетинг с персональными данными без согласия", "152-FZ art. 15 p. 1-2"),
    ("RU", "RU-38FZ-18-AUTO", "block", "SMS/voice advertising to recipients not drawn from consented subjects", "SMS/голосовая реклама адресатам без согласия (сгенерированные или купленные номера)", "38-FZ art. 18 p. 2"),
    ("RU", "RU-38FZ-18.1-MARKING", "warn", "Internet advertising without «Реклама» label, advertiser or erid", "Интернет-реклама без пометки «Реклама», рекламодателя или erid", "38-FZ art. 18.1"),
    ("RU", "RU-152FZ-9-CONSENT-CONTENT", "warn", "Consent notice lacks required content", "В тексте согласия нет обязательных сведений", "152-FZ art. 9 p. 4"),
    ("RU", "RU-152FZ-9-SEPARATE", "warn", "Consent not collected as a separate document", "Согласие получено не отдельным документом", "152-FZ art. 9 p. 1 as amended"),
    ("RU", "RU-152FZ-18-LOCALISATION", "warn", "Processing of Russian subjects outside Russia", "Обработка данных граждан РФ за пределами России", "152-FZ art. 18 p. 5"),
    ("RU", "RU-152FZ-12-CROSS-BORDER", "warn", "Cross-border transfer without recorded notification", "Трансграничная передача без уведомления", "152-FZ art. 12"),
    ("RU", "RU-126FZ-44.1-SENDER", "warn", "SMS campaign without a registered sender name", "SMS-рассылка без зарегистрированного имени отправителя", "126-FZ art. 44.1"),
    ("EU", "EU-EPRIVACY-13-CONSENT", "block", "Marketing email without consent or soft opt-in", "Маркетинговое письмо без согласия или soft opt-in", "Directive 2002/58/EC art. 13(1)-(2); UK PECR reg. 22"),
    ("EU", "EU-GDPR-7-DEMONSTRABLE", "block", "Consent cannot be demonstrated", "Согласие невозможно доказать", "GDPR art. 7(1)"),
    ("EU", "EU-GDPR-CONSENT-QUALITY", "warn", "Consent by pre-ticked box or bundled", "Согласие через предустановленную галочку или в пакете", "GDPR art. 4(11), 7(2); CJEU C-673/17 Planet49"),
    ("US", "US-CANSPAM-OPT-OUT", "block", "No working opt-out mechanism", "Нет работающего механизма отказа", "15 U.S.C. §7704(a)(3)"),
    ("US", "US-CANSPAM-ADDRESS", "block", "No valid physical postal address", "Нет действительного почтового адреса отправителя", "15 U.S.C. §7704(a)(5)(A)(iii)"),
    ("US", "US-CANSPAM-AD-LABEL", "warn", "Not identified as an advertisement", "Не обозначено как реклама", "15 U.S.C. §7704(a)(5)(A)(i)"),
    ("US", "US-CANSPAM-HEADER", "block", "Misleading From, Reply-To or routing information", "Вводящие в заблуждение From, Reply-To или маршрут", "15 U.S.C. §7704(a)(1)"),
    ("US", "US-CANSPAM-SUBJECT", "warn", "Misleading subject line", "Вводящая в заблуждение тема", "15 U.S.C. §7704(a)(2)"),
    ("CA", "CA-CASL-CONSENT", "block", "No express or valid implied consent", "Нет явного или действующего подразумеваемого согласия", "CASL s. 6(1)(a), s. 10(9)-(10)"),
    ("CA", "CA-CASL-IDENTIFICATION", "block", "Sender identification or contact missing", "Нет идентификации или контактов отправителя", "CASL s. 6(2)(a)-(b); CRTC regs"),
    ("CA", "CA-CASL-UNSUBSCRIBE", "block", "No unsubscribe mechanism", "Нет механизма отписки", "CASL s. 6(2)(c), s. 11"),
    ("bulk", "BULK-AUTH", "block", "SPF and DKIM do not both pass", "SPF и DKIM не проходят одновременно", "Gmail / Yahoo (Feb 2024), Outlook (May 2025)"),
    ("bulk", "BULK-DMARC", "block", "No DMARC record, or From not aligned", "Нет DMARC или From не выровнен", "Gmail / Yahoo (Feb 2024), Outlook (May 2025)"),
    ("bulk", "BULK-ONE-CLICK", "block", "Marketing message without one-click unsubscribe", "Рекламное письмо без отписки в один клик", "Gmail / Yahoo"),
    ("bulk", "BULK-UNSUBSCRIBE-LATENCY", "warn", "Unsubscribes not honoured within 2 days", "Отписки не исполняются в течение 2 дней", "Gmail / Yahoo"),
    ("bulk", "BULK-SPAM-RATE", "warn", "Reported spam rate too high", "Слишком высокая доля жалоб на спам", "Gmail Postmaster guidance"),
    ("channel", "SMS-QUIET-HOURS", "warn", "Advertising SMS outside 09:00-21:00 local time", "Рекламное SMS вне 09:00-21:00 по времени получателя", "operator practice; configurable"),
    ("delivery", "DELIVERY-HARD-BOUNCE", "block", "The address hard-bounced", "Адрес вернул постоянную ошибку доставки (hard bounce)", "RFC 3463 (5.x.x status); Gmail / Yahoo bulk sender rules (list hygiene)"),
    ("delivery", "DELIVERY-AFTER-WITHDRAWAL", "block", "Delivered after the person withdrew consent", "Доставлено после отзыва согласия", "38-FZ art. 18 p. 1 (stop immediately); Gmail / Yahoo rules (within 2 days); GDPR art. 21(3)"),
    ("delivery", "SLA-DELIVERY-RATE", "warn", "Delivery rate under the contractor's SLA", "Доля доставленных ниже SLA подрядчика", "the organisation's contract"),
    ("delivery", "SLA-BOUNCE-RATE", "warn", "Bounce rate over the contractor's SLA", "Доля отказов выше SLA подрядчика", "the organisation's contract"),
    ("delivery", "SLA-COMPLAINT-RATE", "warn", "Complaint rate over the contractor's SLA", "Доля жалоб выше SLA подрядчика", "the organisation's contract; Gmail Postmaster (0.1% / 0.3%)"),
    ("delivery", "SLA-UNSUBSCRIBE-LATENCY", "warn", "An unsubscribe was honoured later than the SLA", "Отписка исполнена позже срока SLA", "the contract; RFC 8058; Gmail / Yahoo rules"),
    ("delivery", "SLA-REPORT-LATE", "info", "Delivery events arrived later than the SLA allows", "События доставки поступили позже срока SLA", "the contract"),
]

# Remedies (English, Russian) shown in the domain report next to each DNS and blocklist finding.
_FIXES: dict[str, tuple[str, str]] = {
    "SPF-MISSING": ("Publish one TXT record at the domain: v=spf1 with your sending IPs or include: of your provider, ending in -all or ~all.",
                    "Опубликуйте одну TXT-запись у домена: v=spf1 с IP-адресами отправки или include: провайдера, в конце -all или ~all."),
    "SPF-MULTIPLE": ("Merge the SPF records into one TXT record starting with v=spf1.",
                     "Объедините записи SPF в одну TXT-запись, начинающуюся с v=spf1."),
    "SPF-SYNTAX": ("Correct the record's syntax (mechanisms, qualifiers, spaces) and check it again.",
                   "Исправьте синтаксис записи (механизмы, квалификаторы, пробелы) и проверьте снова."),
    "SPF-TOO-MANY-LOOKUPS": ("Flatten nested include: chains or replace them with ip4:/ip6: ranges to stay within 10 lookups.",
                             "Сократите вложенные include: или замените их диапазонами ip4:/ip6:, чтобы уложиться в 10 запросов."),
    "SPF-VOID-LOOKUPS": ("Remove include:, a or mx terms that point at names without records.",
                         "Удалите include:, a или mx, указывающие на имена без записей."),
    "SPF-PASS-ALL": ("Replace +all with -all (or ~all while you test).", "Замените +all на -all (или ~all на время проверки)."),
    "SPF-NEUTRAL-ALL": ("End the record with -all or ~all.", "Завершите запись на -all или ~all."),
    "SPF-PTR": ("Replace ptr with explicit ip4:/ip6: or include: terms.", "Замените ptr явными ip4:/ip6: или include:."),
    "SPF-IP-NOT-AUTHORISED": ("Add the sending IP (ip4:/ip6:) or your provider's include: to SPF.",
                              "Добавьте IP отправки (ip4:/ip6:) или include: провайдера в SPF."),
    "DMARC-MISSING": ("Publish a TXT record at _dmarc.<domain>: v=DMARC1; p=quarantine; rua=mailto:<reports address>.",
                      "Опубликуйте TXT-запись у _dmarc.<домен>: v=DMARC1; p=quarantine; rua=mailto:<адрес отчётов>."),
    "DMARC-INVALID": ("Rewrite the record as v=DMARC1; p=...; with valid tags only.", "Перепишите запись как v=DMARC1; p=...; только с допустимыми тегами."),
    "DMARC-POLICY-NONE": ("Once reports show aligned mail, move to p=quarantine, then p=reject.",
                          "Когда отчёты покажут выровненную почту, перейдите на p=quarantine, затем p=reject."),
    "DMARC-PCT-PARTIAL": ("Remove pct= or set pct=100.", "Удалите pct= или установите pct=100."),
    "DMARC-NO-RUA": ("Add rua=mailto:<address> to receive aggregate reports.", "Добавьте rua=mailto:<адрес> для агрегированных отчётов."),
    "DMARC-RUA-UNAUTHORISED": ("Ask the report domain to publish <your domain>._report._dmarc.<their domain> TXT \"v=DMARC1\".",
                               "Попросите домен отчётов опубликовать <ваш домен>._report._dmarc.<их домен> TXT \"v=DMARC1\"."),
    "DMARC-WEAK-SUBDOMAIN": ("Set sp= to quarantine or reject, or remove it.", "Установите sp= в quarantine или reject либо удалите его."),
    "DKIM-KEY-MISSING": ("Publish the selector's public key at <selector>._domainkey.<domain>.",
                         "Опубликуйте открытый ключ селектора у <селектор>._domainkey.<домен>."),
    "DKIM-KEY-REVOKED": ("Sign with a selector that has a live key, or publish a new key.",
                         "Подписывайте селектором с действующим ключом или опубликуйте новый ключ."),
    "DKIM-KEY-WEAK": ("Generate a 2048-bit RSA (or Ed25519) key and rotate the selector.",
                      "Создайте ключ RSA 2048 бит (или Ed25519) и смените селектор."),
    "DKIM-KEY-SHORT": ("Rotate to a 2048-bit RSA key.", "Перейдите на ключ RSA 2048 бит."),
    "DKIM-TEST-MODE": ("Remove t=y from the key record once signing works.", "Удалите t=y из записи ключа, когда подпись работает."),
    "PTR-MISSING": ("Ask the IP's owner (hosting provider) to set a PTR to a name that resolves back to the IP.",
                    "Попросите владельца IP (хостинг) установить PTR на имя, которое указывает обратно на этот IP."),
    "PTR-NOT-CONFIRMED": ("Add an A/AAAA record for the PTR name pointing at the sending IP.",
                          "Добавьте запись A/AAAA для имени из PTR, указывающую на IP отправки."),
    "MX-MISSING": ("Publish an MX so bounces and replies can reach you (or a null MX, RFC 7505, if you receive none).",
                   "Опубликуйте MX для возвратов и ответов (или null MX по RFC 7505, если почту не принимаете)."),
    "MTA-STS-MISSING": ("Publish _mta-sts TXT and the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt.",
                        "Опубликуйте TXT _mta-sts и политику по адресу https://mta-sts.<домен>/.well-known/mta-sts.txt."),
    "MTA-STS-INVALID": ("Correct the TXT id and the policy file (version, mode, mx, max_age).",
                        "Исправьте id в TXT и файл политики (version, mode, mx, max_age)."),
    "TLSRPT-MISSING": ("Publish _smtp._tls TXT \"v=TLSRPTv1; rua=mailto:<address>\".",
                       "Опубликуйте _smtp._tls TXT \"v=TLSRPTv1; rua=mailto:<адрес>\"."),
    "BIMI-MISSING": ("Optional: publish default._bimi TXT with your logo once DMARC enforces.",
                     "По желанию: опубликуйте default._bimi TXT с логотипом, когда DMARC в режиме enforcement."),
    "DNSSEC-UNSIGNED": ("Enable DNSSEC at your DNS host and publish the DS record at the registrar.",
                        "Включите DNSSEC у DNS-хостинга и опубликуйте DS-запись у регистратора."),
    "BL-IP-LISTED": ("Find and stop the cause (compromised host, bad list), then request delisting on the list's site.",
                     "Найдите и устраните причину (взломанный узел, плохая база), затем запросите исключение на сайте списка."),
    "BL-IP-LISTED-MINOR": ("Check the cause and request delisting; watch bounce rates.",
                           "Проверьте причину и запросите исключение; следите за возвратами."),
    "BL-DOMAIN-LISTED": ("Stop the mail that caused the listing and request delisting for the domain.",
                         "Прекратите рассылку, вызвавшую внесение, и запросите исключение домена."),
    "BL-LINK-DOMAIN-LISTED": ("Remove or replace links to the listed domain.", "Удалите или замените ссылки на домен из списка."),
    "BL-QUERY-ERROR": ("Check the list's zone and your resolver; a broken list answers every query.",
                       "Проверьте зону списка и ваш резолвер: неисправный список отвечает на любой запрос."),
}

RULES: dict[str, Rule] = {
    rid: Rule(rid, sev, en, ru, cit, sec, *_FIXES.get(rid, ("", "")))  # type: ignore[arg-type]
    for sec, rid, sev, en, ru, cit in _RULES
}


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
