"""The text of an SMS or messenger message: the way out in Russian and English practice."""

from __future__ import annotations

import pytest

from checks.message.sms import check_text_message, text_opt_out


@pytest.mark.parametrize("text", [
    "Скидка 20%! Отказ: shop.example/stop",
    "Скидка 20%! Отказ — shop.example/stop",
    "Скидки до 5.12. Отписка: shop.example/u/1",
    "Скидки до 5.12. Отписаться: shop.example/u/1",
    "Скидки до 5.12. СТОП на 1234",
    "Для отказа от рассылки отправьте СТОП на 5555",
    "Отказаться от рассылки: shop.example/stop",
    "Sale today only. STOP",
    "Sale today only. Reply STOP to opt out",
    "Sale today only. STOP to 12345",
    "Sale today only. Unsubscribe: shop.example/u",
])
def test_usual_opt_out_wording_is_recognised(text):
    assert text_opt_out(text), text
    assert not check_text_message(channel="sms", text=text).findings


@pytest.mark.parametrize("text", [
    "Кредит без отказа! shop.example",
    "СТОП цены! Только сегодня",
    "Don't stop shopping: shop.example",
    "Скидка 20% до 5 декабря",
])
def test_text_without_a_way_out(text):
    assert text_opt_out(text) is None
    found = check_text_message(channel="sms", text=text).findings
    assert [f.rule_id for f in found] == ["MSG-UNSUBSCRIBE-LINK-MISSING"]
    assert found[0].severity == "block" and "sms" in found[0].detail


def test_only_marketing_and_text_channels_need_the_way_out():
    assert not check_text_message(channel="sms", text="Код входа 1234", marketing=False).findings
    assert not check_text_message(channel="voice", text="script", marketing=True).findings
    assert not check_text_message(channel="push", text="Sale!", marketing=True).findings
    assert check_text_message(channel="messenger:telegram", text="Sale!", marketing=True).findings


def test_a_messenger_html_link_is_a_way_out():
    r = check_text_message(channel="messenger:vk", text=None,
                           html='<p>Sale</p><a href="https://shop.example/u/1">Отписаться</a>')
    assert r.unsubscribe_visible == "link https://shop.example/u/1" and not r.findings
