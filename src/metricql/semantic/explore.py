"""Tables, joins and explores: the frozen result of building a project."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from sqlglot import exp

from metricql.errors import Issue, MetricQLError
from metricql.query.model import FilterOperator, FilterRule
from metricql.semantic.fields import Dimension, Metric
from metricql.semantic.granularities import CustomGranularity
from metricql.semantic.parameters import Parameter


class JoinType(str, Enum):
    """SQL join kinds a YAML join may ask for."""

    LEFT = "left"
    INNER = "inner"
    FULL = "full"
    RIGHT = "right"


class Relationship(str, Enum):
    """Cardinality of a join, from the base side to the joined side."""

    ONE_TO_ONE = "one-to-one"
    ONE_TO_MANY = "one-to-many"
    MANY_TO_ONE = "many-to-one"
    MANY_TO_MANY = "many-to-many"


@dataclass(frozen=True, slots=True)
class Table:
    """A model as it appears inside one explore (under its alias when aliased)."""

    name: str
    original_name: str
    label: str
    description: str | None
    relation: exp.Expr
    dimensions: Mapping[str, Dimension]
    metrics: Mapping[str, Metric]
    primary_key: tuple[str, ...] = ()
    sql_where: exp.Expr | None = None
    sql_where_tables: frozenset[str] = frozenset()
    # `meta.row_filter`: a condition on this table's own columns, applied wherever it is
    # scanned (base: WHERE; joined: the join's ON), unlike sql_filter (base only)
    row_filter: exp.Expr | None = None
    # required_filters (enforced) and default_filters (UI hints): rule.required tells which
    default_filters: tuple[FilterRule, ...] = ()
    required_attributes: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    any_attributes: tuple[Mapping[str, tuple[str, ...]], ...] = ()  # see fields.Dimension
    hidden: bool = False
    case_sensitive: bool | None = None
    # field id → the error that left the field out (the rest of the table works)
    field_errors: Mapping[str, MetricQLError] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Join:
    """A join of an explore: `table` (alias or model name) joined on `on`."""

    table: str
    on: exp.Expr
    type: JoinType = JoinType.LEFT
    relationship: Relationship | None = None
    always: bool = False
    hidden: bool = False
    tables_references: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Explore:
    """A base table, its joins, and every field reachable from it, keyed by field id."""

    name: str
    label: str
    base_table: str
    tables: Mapping[str, Table]
    joins: tuple[Join, ...]
    dimensions: Mapping[str, Dimension]
    metrics: Mapping[str, Metric]
    description: str | None = None
    case_sensitive: bool | None = None
    groups: tuple[str, ...] = ()
    issues: tuple[Issue, ...] = ()  # warnings found while building it
    source_dialect: str = "duckdb"
    # metric id → operators of its YAML filters and of every metric it references (only
    # metrics that have some): which metrics' SQL depends on the clock, without a walk.
    metric_filter_operators: Mapping[str, frozenset[FilterOperator]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # lightdash.config.yml's custom granularities: `<time dimension>_<name>` at query time
    custom_granularities: Mapping[str, CustomGranularity] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # `meta.explores.<name>.required_attributes`: who may see this explore at all
    required_attributes: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Lightdash parameters its SQL may reference: the project's, and its models' (model.name)
    parameters: Mapping[str, Parameter] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def field_errors(self) -> Mapping[str, MetricQLError]:
        """Field id → the error that left that field out of the explore."""
        tables = self.tables.values()
        return MappingProxyType({f: e for t in tables for f, e in t.field_errors.items()})

    @property
    def errors(self) -> tuple[MetricQLError, ...]:
        """The errors of the fields left out of this explore (it works without them)."""
        return tuple(self.field_errors.values())

    def field_error(self, fid: str) -> MetricQLError | None:
        """The error of broken field `fid` (or of the dimension a time interval of it is on)."""
        errors = self.field_errors
        found = errors.get(fid)
        if found is None:
            found = next((e for f, e in errors.items() if fid.startswith(f + "_")), None)
        return found

    @property
    def warnings(self) -> tuple[str, ...]:
        """The issues as text (`file:line: message`)."""
        return tuple(str(i) for i in self.issues)

    @property
    def default_filters(self) -> tuple[FilterRule, ...]:
        """The base table's required (enforced) and default (suggested) filters."""
        return self.tables[self.base_table].default_filters

    def join_for(self, table: str) -> Join | None:
        """The join that brings `table` in, or None for the base table."""
        for join in self.joins:
            if join.table == table:
                return join
        return None
