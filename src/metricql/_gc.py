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


FREEZE_FROM_MODELS = 200  # `load_project(freeze=None)` freezes projects at least this large


def freeze_loaded() -> None:
    """Move every live object (a just-loaded project) out of the cyclic GC's reach.

    The explores are thousands of sqlglot trees (reference cycles) that live as long as the
    process: each full collection walked them all (390 ms in a 1,000-model project, paid by
    whichever compile triggered it). After `gc.freeze()` collections skip them. The garbage
    the load left is collected first (young generations only) so it is not frozen with them.
    Frozen objects are never freed by the GC: a project dropped later keeps its memory
    (`gc.unfreeze()` undoes it for the whole process).
    """
    gc.collect(1)
    gc.freeze()
