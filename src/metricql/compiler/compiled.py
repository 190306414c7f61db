"""What compiling a metric query produces: SQL, its dialect, and ordered field metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from metricql.errors import Issue
from metricql.semantic.fields import FieldKind

if TYPE_CHECKING:
    from metricql.compiler.features.pivots import Pivot


@dataclass(frozen=True, slots=True)
class CompiledField:
    """One output column: its id (the column name), label, type and what produced it."""

    id: str
    label: str
    type: str
    kind: FieldKind
    table: str | None = None
    table_label: str | None = None
    format: Any = None
    round: int | None = None
    time_interval: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {
            "id": self.id,
            "label": self.label,
            "type": self.type,
            "kind": self.kind.value,
        }
        if self.table is not None:
            out["table"] = self.table
            out["tableLabel"] = self.table_label
        if self.time_interval is not None:
            out["timeInterval"] = self.time_interval
        if self.format is not None:
            out["format"] = self.format
        if self.round is not None:
            out["round"] = self.round
        return out


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """The SQL for one metric query in one dialect, with its output fields in column order.

    Compiled queries are cached and shared: treat `tree` as read-only (copy it to change it).
    A compile renders its SQL without keeping a tree: `tree` is built on first read.
    """

    sql: str
    dialect: str
    fields: tuple[CompiledField, ...]
    explore: str
    tree: exp.Expr = field(repr=False, compare=False)
    warnings: tuple[str, ...] = ()  # the issues as text
    issues: tuple[Issue, ...] = ()  # the explore's warnings, then the query's (fan-out)
    pivot: Pivot | None = field(default=None, compare=False)  # rows are a pivot's cells
    # Lightdash parameters the SQL used, with their values (Lightdash's usedParametersValues)
    parameters: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def field_ids(self) -> tuple[str, ...]:
        """Output column names, in order."""
        return tuple(f.id for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: sql, dialect, explore, fields, warnings (and parameters used)."""
        out: dict[str, Any] = {
            "sql": self.sql,
            "dialect": self.dialect,
            "explore": self.explore,
            "fields": [f.to_dict() for f in self.fields],
            "warnings": list(self.warnings),
        }
        if self.parameters:
            used = self.parameters.items()
            out["parameters"] = {k: list(v) if isinstance(v, tuple) else v for k, v in used}
        return out


class BuiltOnRead(CompiledQuery):
    """A CompiledQuery whose tree is built when first read: its SQL was rendered without
    keeping one (rendering may rewrite the tree in place, and most callers never read it).

    Equal to any CompiledQuery with the same fields (the tree is never compared).
    """

    __slots__ = ("_build", "_built")
    _build: Callable[[], exp.Expr] | None
    _built: exp.Expr | None

    def __init__(self, *args: Any, build: Callable[[], exp.Expr] | None = None, **kw: Any):
        object.__setattr__(self, "_build", build)
        object.__setattr__(self, "_built", None)
        kw.setdefault("tree", None)
        super().__init__(*args, **kw)

    @property  # a lazy stand-in for the dataclass field
    def tree(self) -> exp.Expr:
        built = self._built
        if built is None:
            assert self._build is not None  # built with a tree, or with its builder
            built = self._build()
            object.__setattr__(self, "_built", built)
        return built

    @tree.setter
    def tree(self, value: exp.Expr | None) -> None:
        object.__setattr__(self, "_built", value)  # None: built by `_build` on first read

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompiledQuery):
            return NotImplemented
        return compared(self) == compared(other)

    def __hash__(self) -> int:
        return hash(compared(self))


def compared(query: CompiledQuery) -> tuple[Any, ...]:
    """What CompiledQuery equality compares (every field but the tree, pivot, parameters)."""
    return (query.sql, query.dialect, query.fields, query.explore, query.warnings, query.issues)


def with_changes(query: CompiledQuery, **changes: Any) -> CompiledQuery:
    """`query` with some fields replaced; a tree built on read stays unbuilt."""
    if isinstance(query, BuiltOnRead) and "tree" not in changes and query._built is None:
        kept = {f.name: getattr(query, f.name) for f in fields(CompiledQuery) if f.name != "tree"}
        return BuiltOnRead(build=query._build, **{**kept, **changes})
    return replace(query, **changes)
