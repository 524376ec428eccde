"""The hand-assembled canonical JSON of ``encode_parts`` equals the sorted encoder's, value for value."""

from __future__ import annotations

import json
import random

import pytest

from consent_ledger.ledger import _encode_parts_generic, encode_parts


class Text(str):
    """A str subclass: the encoder writes it as a string too."""


VALUES = [None, True, False, "", "a", "плюс+@пример.рф", 'q"uote\\back/slash', "\x00\x1f\x7f", "\u2028\u2029",
          "\U0001F600", "\ud800", "  spaced  ", 0, 1, -7, 2**60, 1.5, float("inf"), Text("sub"), ["x"], {"k": 1}]


def _body(rng: random.Random) -> dict:
    pick = lambda: rng.choice(VALUES)  # noqa: E731
    evidence = {k: pick() for k in ("bundled", "ip", "notice_sha256", "notice_version", "pre_ticked",
                                    "separate_document", "source_url", "user_agent")}
    if rng.random() < 0.05:
        evidence["extra"] = pick()
    personal = rng.choice([None, {"box": "b64/+=", "fields": ["evidence.ip", "reason"]},
                           {"box": pick(), "fields": [pick()]}, {"fields": ["reason"]}, "text", 3])
    body = {k: pick() for k in ("channel", "purpose", "controller", "jurisdiction", "legal_basis", "method",
                                "claimed_at", "expires_at", "reason", "pseudonym")}
    body.update(type=rng.choice(["granted", "confirmed", "withdrawn", "erased"]), evidence=evidence,
                personal=personal)
    return body


def _generic_or_error(body: dict, actor: str) -> tuple | type:
    try:
        return _encode_parts_generic(body, actor)
    except (TypeError, ValueError) as exc:
        return type(exc)


@pytest.mark.parametrize("seed", range(4))
def test_encode_parts_equals_the_sorted_encoder(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(3000):
        body, actor = _body(rng), rng.choice(["bench", "имп\"орт", Text("x")])
        want = _generic_or_error(body, actor)
        try:
            got = encode_parts(body, actor)
        except (TypeError, ValueError) as exc:
            got = type(exc)
        assert got == want, body
        if isinstance(got, tuple) and all(isinstance(v, str | bool | type(None)) for v in body.values()
                                          if not isinstance(v, dict)):
            json.loads(got[0] + '2026-11-30T00:00:00.000000Z","seq":1' + got[1])


def test_encode_parts_refuses_other_keys() -> None:
    body = _body(random.Random(9))
    body["extra"] = None
    with pytest.raises(ValueError, match="unexpected event keys"):
        encode_parts(body, "a")
