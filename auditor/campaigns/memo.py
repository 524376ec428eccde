"""Share rule outcomes between recipients whose consent states look the same to the rules.

The recipient rules are deterministic functions of (state, campaign facts, policy, now); within
one audit or gate call only the state varies. A state is evaluated through a proxy that logs
which fields the rules read and, for times, which comparisons they made; the outcome is kept
under exactly those observations. Another state with the same observations takes the same path
through every rule, so it gets the same outcome without running them. Subjects differ in
fields the rules ignore (pseudonym, sequence numbers) and in grant times that the rules only
compare with a fixed date or with now, so 100,000 recipients collapse to a few evaluations.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}
_OWN = frozenset({"_probes", "_opaque", "_note", "__class__", "__dict__"})


class _Instant(datetime):
    """A datetime that notes how it is used: comparisons and ``tzinfo``; anything else is opaque."""

    def _note(self, op: str, other: Any, result: Any) -> Any:
        self._probes.append((op, other, result))
        return result

    def __getattribute__(self, name: str) -> Any:
        if name in _OWN:
            return object.__getattribute__(self, name)
        if name == "tzinfo":
            return self._note("tzinfo", None, datetime.__getattribute__(self, "tzinfo"))
        self._opaque = True  # isoformat(), replace(), timestamp()...: the exact value matters
        return datetime.__getattribute__(self, name)

    def __lt__(self, o: Any) -> Any: return self._note("<", o, datetime.__lt__(self, o))  # noqa: E704
    def __le__(self, o: Any) -> Any: return self._note("<=", o, datetime.__le__(self, o))  # noqa: E704
    def __gt__(self, o: Any) -> Any: return self._note(">", o, datetime.__gt__(self, o))  # noqa: E704
    def __ge__(self, o: Any) -> Any: return self._note(">=", o, datetime.__ge__(self, o))  # noqa: E704
    def __eq__(self, o: Any) -> Any: return self._note("==", o, datetime.__eq__(self, o))  # noqa: E704
    def __ne__(self, o: Any) -> Any: return self._note("!=", o, datetime.__ne__(self, o))  # noqa: E704

    def _used(self, fn: Callable, *a: Any) -> Any:
        self._opaque = True
        return fn(*a)

    def __hash__(self) -> int: return self._used(datetime.__hash__, self)  # noqa: E704
    def __str__(self) -> str: return self._used(datetime.__str__, self)  # noqa: E704
    def __repr__(self) -> str: return self._used(datetime.__repr__, self)  # noqa: E704
    def __format__(self, spec: str) -> str: return self._used(datetime.__format__, self, spec)  # noqa: E704
    def __add__(self, o: Any) -> Any: return self._used(datetime.__add__, self, o)  # noqa: E704
    def __radd__(self, o: Any) -> Any: return self._used(datetime.__radd__, self, o)  # noqa: E704
    def __sub__(self, o: Any) -> Any: return self._used(datetime.__sub__, self, o)  # noqa: E704
    def __rsub__(self, o: Any) -> Any: return self._used(datetime.__rsub__, self, o)  # noqa: E704
    def __reduce__(self) -> Any: return self._used(datetime.__reduce__, self)  # noqa: E704

    @classmethod
    def of(cls, value: datetime) -> _Instant:
        """A tracked copy of ``value``."""
        t = cls(value.year, value.month, value.day, value.hour, value.minute, value.second,
                value.microsecond, value.tzinfo, fold=value.fold)
        t._probes, t._opaque = [], False
        return t


class _Reads:
    """A consent state that logs the fields the rules read (first read of each, in order)."""

    __slots__ = ("_state", "_log")

    def __init__(self, state: Any) -> None:
        self._state = state
        self._log: dict[str, tuple[Any, _Instant | None]] = {}

    def __getattr__(self, name: str) -> Any:
        if name == "pseudonym":  # only labels the finding's subject, which the outcome does not keep
            return ""
        seen = self._log.get(name)
        if seen is not None:
            return seen[1] if seen[1] is not None else seen[0]
        value = getattr(self._state, name)
        tracked = _Instant.of(value) if type(value) is datetime else None
        self._log[name] = (value, tracked)
        return tracked if tracked is not None else value


_UNSET: Any = object()  # no datetime seen at this node yet


def _observe(value: datetime, probes: tuple) -> tuple:
    """What the rules saw of a time: the results of the recorded probes."""
    return tuple([value.tzinfo if op == "tzinfo" else _COMPARE[op](value, other) for op, other in probes])


class _Node:
    """The field read next, a child per observation, or an outcome.

    ``probes`` says how the rules used a time in this field: a tuple of probes (the child is
    chosen by their results), None (used opaquely: the child is chosen by the exact value), or
    unset. Values that are not times always choose the child by their value.
    """

    __slots__ = ("field", "probes", "children", "outcome")

    def __init__(self) -> None:
        self.field: str | None = None
        self.probes: Any = _UNSET
        self.children: dict[Any, _Node] = {}
        self.outcome: Any = None


class OutcomeMemo:
    """Rule outcomes keyed by exactly what the rules observed of a state."""

    def __init__(self, evaluate: Callable[[Any], Any]) -> None:
        self._evaluate = evaluate
        self._root = _Node()

    def outcome(self, state: Any) -> Any:
        """The outcome for ``state``; the rules run only for a situation not seen before."""
        node = self._root
        try:
            while node.outcome is None and node.field is not None:
                value = getattr(state, node.field)
                if type(value) is datetime:
                    if node.probes is _UNSET:
                        raise KeyError(node.field)
                    if node.probes is not None:
                        value = _observe(value, node.probes)
                node = node.children[value]
            if node.outcome is not None:
                return node.outcome
        except (KeyError, TypeError):  # not seen yet, or an unhashable or incomparable value
            pass
        reads = _Reads(state)
        result = self._evaluate(reads)
        self._remember(reads._log, result)
        return result

    def _remember(self, log: dict[str, tuple[Any, _Instant | None]], result: Any) -> None:
        node = self._root
        try:
            for name, (value, tracked) in log.items():
                if node.field is None and node.outcome is None:
                    node.field = name
                elif node.field != name:
                    return  # another path through the rules: evaluate such states each time
                key = value
                if tracked is not None:
                    probes = None if tracked._opaque else tuple((op, o) for op, o, _r in tracked._probes)
                    if node.probes is _UNSET:
                        node.probes = probes
                    elif node.probes != probes:
                        return
                    if probes is not None:
                        key = _observe(value, probes)
                node = node.children.setdefault(key, _Node())
        except TypeError:  # an unhashable value
            return
        if node.field is None:
            node.outcome = result
