"""Finding details as message ids with parameters, so one finding reads naturally in English
and Russian.

A check writes ``msg("{count} lookups return no answer", count=3)``: the result is the English
text (a ``str``, so every existing caller keeps working) that remembers its message id and
parameters. The Russian text comes from the Babel catalogue
``checks/translations/ru/LC_MESSAGES/checks.po`` (msgid = the English template).
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """English text that remembers the template (``msgid``) and ``params`` it was made from."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        text = super().__new__(cls, msgid.format(**params) if params else msgid)
        text.msgid = msgid
        text.params = params
        return text


def msg(msgid: str, /, **params: Any) -> Message:
    """A translatable finding detail: ``msgid`` is an English ``str.format`` template."""
    return Message(msgid, **params)
