"""How to fix each DNS and blocklist finding, in English and Russian (domain report).

The catalogue holds titles and citations only; remedies live here until it grows a field
for them, so this is the one place a remedy is written.
"""

from __future__ import annotations

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


def how_to_fix(rule_id: str, lang: str) -> str:
    """The remedy for a finding in ``lang``, or an empty string."""
    pair = _FIXES.get(rule_id)
    return "" if pair is None else pair[1 if lang == "ru" else 0]
