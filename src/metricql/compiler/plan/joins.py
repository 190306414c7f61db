"""Which joins a query needs, and why: every table a field of the query reads, recorded with
the reason once, where the planner chooses the joins (`explain` shows the reasons)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from metricql.errors import QueryError
from metricql.semantic.explore import Explore, Join
from metricql.semantic.fields import Dimension, Metric

ReasonKind = Literal[
    "dimension",
    "custom_dimension",
    "metric",
    "metric_filter",
    "dimension_filter",
    "required_filter",
    "sql_filter",
    "always",
    "connects",  # needed to reach another joined table
    "other",
]


@dataclass(frozen=True, slots=True)
class JoinReason:
    """Why a table is joined: `kind` of use and the field (or table) behind it."""

    kind: ReasonKind
    field: str | None = None


class TableUses:
    """Tables a query reads, each with its reasons in the order they were found."""

    def __init__(self) -> None:
        self._reasons: dict[str, list[JoinReason]] = {}

    def add(self, tables: Iterable[str], kind: ReasonKind, field: str | None) -> None:
        """Record that `field` (a use of `kind`) reads `tables`."""
        for table in tables:
            found = self._reasons.setdefault(table, [])
            if JoinReason(kind, field) not in found:
                found.append(JoinReason(kind, field))

    def dimension(self, dim: Dimension, kind: ReasonKind, field: str | None = None) -> None:
        """A dimension's tables: those its SQL reads, else its own."""
        self.add(dim.tables_references or {dim.table}, kind, field or dim.id)

    def metric(self, explore: Explore, metric: Metric, kind: ReasonKind) -> None:
        """A metric's tables and those of the dimensions its YAML filters compare (CASE WHEN)."""
        self.add(metric.tables_references or {metric.table}, kind, metric.id)
        for rule in metric.filters:
            self.dimension(explore.dimensions[rule.target.field_id], kind, metric.id)

    def joins(
        self, explore: Explore
    ) -> tuple[tuple[Join, ...], Mapping[str, tuple[JoinReason, ...]]]:
        """The joins these uses need (with those that connect them and `always` joins), in
        declared order, and the reasons for each."""
        used = set(self._reasons) | {j.table for j in explore.joins if j.always}
        joins = _joins(explore, used)
        for join in joins:
            if join.always:
                self.add([join.table], "always", None)
            self.add(join.tables_references - {explore.base_table}, "connects", join.table)
        reasons = {
            j.table: tuple(self._reasons.get(j.table) or [JoinReason("other")]) for j in joins
        }
        return joins, MappingProxyType(reasons)


def _joins(explore: Explore, used: set[str]) -> tuple[Join, ...]:
    """Joins for `used` tables plus every table needed to connect them, in declared order."""
    by_table: Mapping[str, Join] = {j.table: j for j in explore.joins}
    needed: set[str] = set()
    stack = [t for t in used if t != explore.base_table]
    while stack:
        table = stack.pop()
        if table in needed:
            continue
        join = by_table.get(table)
        if join is None:
            raise QueryError(
                f'table "{table}" is not joined to base table "{explore.base_table}"',
                hint="add a join for it in the base model's meta.joins",
                explore=explore.name,
            )
        needed.add(table)
        stack.extend(t for t in join.tables_references if t != explore.base_table)
    return _after_their_references(explore, [j for j in explore.joins if j.table in needed])


def _after_their_references(explore: Explore, joins: list[Join]) -> tuple[Join, ...]:
    """`joins` in declared order, except that a join comes after every join its ON reads
    (a join declared before the one it needs would be invalid SQL); a cycle is a QueryError."""
    placed: list[Join] = []
    done = {explore.base_table}
    waiting = list(joins)
    while waiting:
        ready = next((j for j in waiting if j.tables_references <= done | {j.table}), None)
        if ready is None:
            raise QueryError(
                "joins reference each other in a cycle: "
                + ", ".join(sorted(j.table for j in waiting)),
                hint="make each join's sql_on read only the base table and earlier joins",
                explore=explore.name,
            )
        placed.append(ready)
        done.add(ready.table)
        waiting.remove(ready)
    return tuple(placed)
