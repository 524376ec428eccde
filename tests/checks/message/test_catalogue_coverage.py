"""Every RULES.md §3 id, both ways: a real-shaped message that triggers it, and the clean one that does not."""

from __future__ import annotations

import pytest

from checks.catalogue import RULES
from tests.checks.message.conftest import DEFAULT_HTML, ids, make_raw

TRIGGERS = {
    "MSG-HEADER-INVALID": lambda: make_raw(message_id=False),
    "MSG-DKIM-UNSIGNED": lambda: make_raw(selector=None),
    "MSG-DKIM-FAIL": lambda: make_raw(tamper=lambda r: r.replace(b"November offers", b"Black Friday")),
    "MSG-NOT-ALIGNED": lambda: make_raw(from_="News <news@elsewhere.example>"),
    "MSG-LIST-UNSUBSCRIBE-MISSING": lambda: make_raw(list_unsubscribe=None),
    "MSG-ONE-CLICK-MISSING": lambda: make_raw(post=None),
    "MSG-UNSUBSCRIBE-LINK-MISSING": lambda: make_raw(html="<p>Offers</p>", text="Offers"),
    "MSG-SIZE-CLIPPED": lambda: make_raw(html=DEFAULT_HTML + "<p>" + "x" * 110_000 + "</p>"),
    "MSG-NO-TEXT-PART": lambda: make_raw(text=None),
    "MSG-LINK-TEXT-MISMATCH": lambda: make_raw(html=DEFAULT_HTML + '<a href="https://evil.example/">bank.example</a>'),
    "MSG-LINK-SHORTENER": lambda: make_raw(html=DEFAULT_HTML + '<a href="https://clck.ru/abc">sale</a>'),
}


def test_every_message_id_has_a_trigger():
    assert set(TRIGGERS) == {rid for rid, r in RULES.items() if r.section == "message"}


@pytest.mark.parametrize("rule_id", sorted(TRIGGERS))
def test_each_id_both_ways(check, rule_id):
    found = [f for f in check(TRIGGERS[rule_id]()).findings if f.rule_id == rule_id]
    assert found and found[0].severity == RULES[rule_id].severity and found[0].citation == RULES[rule_id].citation
    assert rule_id not in ids(check(make_raw()))


def test_the_clean_message_has_no_findings_at_all(check):
    assert check(make_raw()).findings == []
