"""Validate a project explore by explore, in bounded memory.

The eager build (`build_explores`) keeps every model definition, every shared table and every
explore until it returns: 4 GiB at 10,000 models. A lazy load needs only what each explore
reported, so it runs the same build loop (`build_into`) with a sink that records each explore
and lets it go, model definitions made on demand with only the latest few kept, and a bounded
table cache. Nothing here decides validity: errors and warnings are the eager build's.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from metricql.errors import MetricQLError
from metricql.project.schema import ModelSchema, ProjectSchema
from metricql.semantic.build import ExploreErrors, build_into
from metricql.semantic.explore import Explore, Table
from metricql.semantic.models import ModelDef, field_read_errors, model_def, unread_models

KEEP_DEFS = 128  # model definitions kept (each explore reads its model and its joins')
KEEP_TABLES = 128  # tables shared between explores kept
COLLECT_AFTER = 400_000  # new container objects between two collections of the build's cycles

R = TypeVar("R")


class _Window:
    """Model definitions made on first lookup; the latest `size` kept, failures remembered."""

    def __init__(self, project: ProjectSchema, dialect: str, size: int) -> None:
        self._project = project.model_copy(update={"models": ()})
        self._dialect = dialect
        self._size = size
        self._schemas: dict[str, ModelSchema] = {m.name: m for m in project.models}
        self._unread = unread_models(project)
        self._field_errors = field_read_errors(project)
        self._failed: dict[str, MetricQLError] = {}
        self._kept: dict[str, ModelDef] = {}

    def definition(self, name: str) -> ModelDef | None:
        """The definition of model `name`; None if there is no such model or it is broken."""
        found = self._kept.pop(name, None)
        if found is None:
            schema = self._schemas.get(name)
            if schema is None or name in self._failed:
                return None
            try:
                found = model_def(
                    schema, self._project, self._dialect, self._field_errors.get(name, {})
                )
            except MetricQLError as err:
                err.__traceback__ = None  # its frames would keep the trees alive
                self._failed[name] = err
                return None
            if len(self._kept) >= self._size:
                del self._kept[next(iter(self._kept))]  # the least recently used
        self._kept[name] = found  # last: most recently used
        return found

    def error(self, name: str) -> MetricQLError | None:
        """Why model `name` has no explore, as `build_model_defs` reports it."""
        if name in self._schemas:
            self.definition(name)
        return self._failed.get(name) or self._unread.get(name)

    def names(self) -> Iterator[str]:
        """Every model name, unread ones last."""
        yield from self._schemas
        yield from (n for n in self._unread if n not in self._schemas)


class _Defs(Mapping[str, ModelDef]):
    """The definitions that build, as `build_model_defs` returns them."""

    def __init__(self, window: _Window) -> None:
        self._window = window

    def __getitem__(self, name: str) -> ModelDef:
        found = self._window.definition(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._window.definition(name) is not None

    def __iter__(self) -> Iterator[str]:  # only an error's hint lists them: all made then
        return (n for n in self._window.names() if n in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Broken(Mapping[str, MetricQLError]):
    """The models that cannot be read or defined, as `build_model_defs` returns them."""

    def __init__(self, window: _Window) -> None:
        self._window = window

    def __getitem__(self, name: str) -> MetricQLError:
        found = self._window.error(name)
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._window.names() if self._window.error(n) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Tables(dict[tuple[object, ...], Table]):
    """The shared-table cache with the oldest entries dropped past `size`."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size

    def __setitem__(self, key: tuple[object, ...], table: Table) -> None:
        if len(self) >= self._size:
            del self[next(iter(self))]
        super().__setitem__(key, table)


class _Records(Generic[R]):
    """A `build_into` sink keeping `record(explore)` of each explore, not the explore."""

    def __init__(self, record: Callable[[Explore], R]) -> None:
        self.records: dict[str, R] = {}
        self._record = record

    def __contains__(self, name: object) -> bool:
        return name in self.records

    def add(self, name: str, explore: Explore) -> None:
        self.records[name] = self._record(explore)
        if gc.get_count()[0] > COLLECT_AFTER:
            gc.collect()  # sqlglot trees are cycles: let the ones let go be freed

    def discard(self, name: str) -> None:
        self.records.pop(name, None)


def validate_each(
    project: ProjectSchema, dialect: str, record: Callable[[Explore], R]
) -> tuple[dict[str, R], ExploreErrors]:
    """`record` of each explore `build_explores` would build (in its order), and the broken
    ones with their errors, holding one explore and a bounded set of definitions at a time."""
    sink: _Records[R] = _Records(record)
    # The parsed project is live throughout: out of the GC's sight, each collection walks
    # only what the build made since (unless something else froze objects before us).
    mine = gc.get_freeze_count() == 0
    if mine:
        gc.freeze()
    try:
        broken = _build(project, dialect, sink)
    finally:
        # The windows' cycles outlived collections: freed now, or a frozen load keeps them.
        gc.collect()
        if mine:
            gc.unfreeze()
    return sink.records, broken


def _build(project: ProjectSchema, dialect: str, sink: _Records[R]) -> ExploreErrors:
    window = _Window(project, dialect, KEEP_DEFS)
    return build_into(project, _Defs(window), _Broken(window), sink, _Tables(KEEP_TABLES))


__all__ = ["validate_each"]
