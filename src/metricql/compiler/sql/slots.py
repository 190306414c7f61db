"""Value slots: where a filter value becomes SQL, marked so the shape cache can swap it.

A shape template is compiled from the query with each swappable value wrapped (`wrap`): a
str/int/float subclass equal to the value and carrying its slot number. While `recording()`
is on, `slotted` puts a marker call (`MQSLOT…<n>()`) in the tree where the value's literal
would go and records the builder of that literal; a plain value (every normal compile) gets
its literal and nothing else. The builder also runs on the marked value, so a bad value
raises exactly as in a fresh compile.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlglot import exp

Builder = Callable[[Any], exp.Expr]

# Random per process, so no SQL from a project can spell a marker by chance or on purpose.
TOKEN = "MQSLOT" + secrets.token_hex(6).upper()
_RECORDING: ContextVar[list[tuple[int, Builder]] | None] = ContextVar("slots", default=None)


class _SlotStr(str):
    mq_slot: int


class _SlotInt(int):
    mq_slot: int


class _SlotFloat(float):
    mq_slot: int


_WRAPPERS: dict[type, type] = {str: _SlotStr, int: _SlotInt, float: _SlotFloat}
SWAPPABLE = frozenset(_WRAPPERS)  # exact types only: bool, dates, Decimal stay in the key


def wrap(value: Any, slot: int) -> Any:
    """`value` (of a SWAPPABLE type) marked as slot number `slot`."""
    marked = _WRAPPERS[type(value)](value)
    marked.mq_slot = slot
    return marked


@contextmanager
def recording() -> Iterator[list[tuple[int, Builder]]]:
    """Markers made inside the block, in order: (slot, builder of the literal)."""
    found: list[tuple[int, Builder]] = []
    token = _RECORDING.set(found)
    try:
        yield found
    finally:
        _RECORDING.reset(token)


def recording_slots() -> bool:
    """Whether a `recording()` block is on (a shape template is being compiled)."""
    return _RECORDING.get() is not None


def slotted(value: Any, build: Builder) -> exp.Expr:
    """The literal of `value`, or a marker in its place for a marked value while recording."""
    node = build(value)
    slot = getattr(value, "mq_slot", None)
    found = _RECORDING.get()
    if slot is None or found is None:
        return node
    found.append((slot, build))
    return exp.Anonymous(this=f"{TOKEN}{len(found) - 1}")
