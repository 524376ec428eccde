"""The pure renderer: charts, escaping, language choice, the history timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reports import charts
from reports.data import PostureChange
from reports.i18n import LABELS, labels
from reports.render import _css_str, _timeline


def test_chart_labels_are_escaped_svg_text():
    svg = charts.bar_chart([("<script>x</script> & Реклама", 3), ("b", 1)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; Реклама" in svg
    assert svg.startswith("<svg") and svg.count("<rect") == 2


def test_footer_text_cannot_break_out_of_the_css_string():
    out = str(_css_str('x" } body { display: none } </style><b>'))
    assert '"' not in out and "<" not in out and ">" not in out


def test_every_label_exists_in_both_languages_and_unknown_languages_are_refused():
    ru, en = labels("ru"), labels("en")
    assert en == LABELS and all(en.values())
    # the Russian comes from reports.po; a label missing there would print in English
    assert [k for k in LABELS if ru[k] == en[k]] == ["app", "channel_sms"]
    assert ru["contents"] == "Содержание"
    # one English word, two Russian ones: the key's msgctxt entry wins
    assert (ru["sev_block"], ru["short_block"], ru["from"], ru["from_date"]) == ("блокирует", "блок.", "Отправитель", "С")
    assert (ru["decision_approve"], ru["decision_reject"], ru["submitted_at"]) == ("одобрено", "отклонено",
                                                                                  "Подано на проверку")
    with pytest.raises(ValueError, match="language"):
        labels("de")


def test_timeline_keeps_every_check_until_sixty_then_the_worst_check_of_each_day():
    start = datetime(2026, 11, 1, tzinfo=UTC)
    few = [PostureChange(start + timedelta(hours=i), i % 2, 0, 1, [], []) for i in range(10)]
    assert len(_timeline(few)) == 10
    many = [PostureChange(start + timedelta(hours=i), 1 if i == 30 else 0, 0, 1, [], []) for i in range(96)]
    cols = _timeline(many)
    assert [c[0] for c in cols] == ["11-01", "11-02", "11-03", "11-04"]
    assert [c[1]["block"] for c in cols] == [0, 1, 0, 0]


def test_an_unknown_report_language_is_a_usage_error(runner, tmp_path):
    res = runner.invoke(["report", "period", "--from", "2026-11-01", "--to", "2026-11-02", "--lang", "de",
                         "--out", str(tmp_path / "p.pdf")])
    assert res.exit_code == 2
