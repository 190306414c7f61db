"""Pause Python's cyclic garbage collector around allocation-heavy, garbage-free work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic GC off, restoring it after.

    sqlglot trees are parent/child reference cycles, so building them triggers collections
    that rescan every live tree (the whole loaded project) again and again: about half of a
    project load or a wide compile. Garbage made meanwhile is collected later as usual. The
    GC is re-enabled only by the call that disabled it, so nested or concurrent pauses never
    leave it off.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
