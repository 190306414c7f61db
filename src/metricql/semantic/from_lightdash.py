"""Explores from Lightdash's compiled Explore JSON (validated by `project.explore_json`).

How each part becomes a tree:
- a dimension: its `compiledSql` (Lightdash resolved every reference in it), parsed in the
  explore's `targetDatabase` dialect; `${lightdash.attributes.x}` / `${lightdash.user.x}`
  become attribute markers. A time-interval child (`timeInterval` + its base dimension in
  the same table) becomes an interval marker over the base, so it renders per dialect as
  dimensions built from YAML do;
- a metric: its `sql` template resolved like YAML: `${TABLE}` is its table, `${dim}` /
  `${table.dim}` a dimension's tree, and in number/string/date/boolean and post-calculation
  metrics `${metric}` / `${table.metric}` a metric reference; `filters` target `table.dim`;
- a join: `compiledSqlOn`; a table: `sqlTable` (a table name or a parenthesised SELECT),
  `sqlWhere`, `requiredFilters`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sqlglot
from pydantic import ValidationError
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from metricql.dialects import ADAPTERS
from metricql.errors import Issue, MetricQLError, ProjectError, ProjectErrors, Where
from metricql.project.explore_json import ExploreJson, FieldJson, JoinJson, TableJson
from metricql.query.model import FilterRule, FilterTarget
from metricql.semantic.build import check_metric_cycles
from metricql.semantic.explore import Explore, Join, JoinType, Relationship, Table
from metricql.semantic.fields import (
    AGGREGATE_METRIC_TYPES,
    BadReference,
    Dimension,
    DimensionType,
    Metric,
    MetricType,
    TimeInterval,
    field_id,
)
from metricql.semantic.parameters import Parameter, parameter_definition, parameter_name
from metricql.semantic.refs import (
    attribute_ref,
    interval_of,
    metric_ref,
    parameter_ref,
    parse_snippet,
    substitute,
)
from metricql.semantic.relations import relation_of

__all__ = ["explores_from_json"]


def explores_from_json(entries: list[ExploreJson]) -> dict[str, Explore]:
    """Build each explore; every problem of every explore is raised at once (ProjectErrors)."""
    explores: dict[str, Explore] = {}
    problems: list[MetricQLError] = []
    for entry in entries:
        try:
            explores[entry.name] = _Builder(entry).explore()
        except ProjectErrors as many:
            problems.extend(many.errors)
        except MetricQLError as err:
            problems.append(err)
    if problems:
        raise problems[0] if len(problems) == 1 else ProjectErrors(problems)
    return explores


@dataclass
class _Builder:
    spec: ExploreJson
    dims: dict[str, dict[str, Dimension]] = field(default_factory=dict)
    problems: list[MetricQLError] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return str(ADAPTERS.get(self.spec.target_database, self.spec.target_database))

    def explore(self) -> Explore:
        spec = self.spec
        if self.dialect not in ADAPTERS.values():
            raise self._error(
                f"targetDatabase {spec.target_database!r} is not supported",
                f"use one of: {', '.join(sorted(ADAPTERS))}",
            )
        if spec.base_table not in spec.tables:
            raise self._error(
                f"baseTable {spec.base_table!r} is not one of its tables",
                f"tables: {', '.join(spec.tables) or 'none'}; baseTable must name one",
            )
        for key, table in spec.tables.items():
            self.dims[key] = self._guard({}, self._dimensions, key, table)
        tables = {k: self._guard(None, self._table, k, t) for k, t in spec.tables.items()}
        joins = tuple(self._guard(None, self._join, j) for j in spec.joined_tables)
        if self.problems:
            raise ProjectErrors(self.problems)
        built = {k: t for k, t in tables.items() if t is not None}
        check_metric_cycles(built.values(), {"explore": spec.name})
        return Explore(
            name=spec.name,
            label=spec.label or spec.name,
            base_table=spec.base_table,
            tables=MappingProxyType(built),
            joins=tuple(j for j in joins if j is not None),
            dimensions=MappingProxyType(
                {d.id: d for t in built.values() for d in t.dimensions.values()}
            ),
            metrics=MappingProxyType({m.id: m for t in built.values() for m in t.metrics.values()}),
            description=spec.description,
            case_sensitive=spec.case_sensitive,
            groups=spec.groups,
            issues=tuple(
                Issue(
                    "lightdash_warning",
                    str(w.get("message", w)) if isinstance(w, dict) else str(w),
                    where=Where(explore=spec.name),
                )
                for w in spec.warnings
            ),
            source_dialect=self.dialect,
            parameters=MappingProxyType(self._parameters()),
        )

    def _parameters(self) -> dict[str, Parameter]:
        """Each table's model parameters as `<model>.<name>`; the project's are not in an
        explore's JSON (Lightdash keeps them per project)."""
        return {
            f"{model}.{n}": parameter_definition(f"{model}.{n}", p)
            for t in self.spec.tables.values()
            for model in [t.original_name or t.name]
            for n, p in t.parameters.items()
        }

    def _guard(self, default: Any, build: Callable[..., Any], *args: Any) -> Any:
        """`build(*args)`, or `default` with the problem kept: report all problems at once."""
        try:
            return build(*args)
        except MetricQLError as err:
            self.problems.append(err)
            return default

    def _table(self, key: str, table: TableJson) -> Table:
        metrics = {name: self._metric(key, table, m) for name, m in table.metrics.items()}
        where = (
            self._tree(table.sql_where, key, f"sqlWhere of table {key}")
            if table.sql_where
            else None
        )
        return Table(
            name=key,
            original_name=table.original_name or table.name,
            label=table.label or key,
            description=table.description or None,
            relation=self._relation(table.sql_table, key),
            dimensions=MappingProxyType(self.dims[key]),
            metrics=MappingProxyType(metrics),
            primary_key=table.primary_key,
            sql_where=where,
            sql_where_tables=frozenset({key}) if where is not None else frozenset(),
            default_filters=tuple(
                self._rule(r, key, f"requiredFilters of {key}") for r in table.required_filters
            ),
            required_attributes=MappingProxyType(dict(table.required_attributes)),
            any_attributes=_groups(table.any_attributes),
            hidden=table.hidden,
            case_sensitive=table.case_sensitive,
        )

    def _dimensions(self, key: str, table: TableJson) -> dict[str, Dimension]:
        out: dict[str, Dimension] = {}
        children = []
        for name, spec in table.dimensions.items():
            if spec.time_interval and spec.time_interval_base_dimension_name in table.dimensions:
                children.append((name, spec))
                continue
            text = spec.compiled_sql or spec.sql
            out[name] = self._dimension(
                key, table, name, spec, self._tree(text, key, f"dimension {name}")
            )
        for name, spec in children:
            base = out.get(str(spec.time_interval_base_dimension_name))
            if base is None:
                raise self._error(
                    f"dimension {name!r} names a missing base dimension",
                    "timeIntervalBaseDimensionName must name a dimension of the same table",
                    table=key,
                    field=name,
                )
            interval = self._enum(TimeInterval, spec.time_interval, key, name)
            tree = interval_of(base.sql.copy(), interval, base.type)
            out[name] = self._dimension(key, table, name, spec, tree)
        return out

    def _dimension(
        self, key: str, table: TableJson, name: str, spec: FieldJson, tree: exp.Expr
    ) -> Dimension:
        interval = (
            self._enum(TimeInterval, spec.time_interval, key, name) if spec.time_interval else None
        )
        return Dimension(
            name=name,
            table=key,
            type=self._enum(DimensionType, spec.type, key, name),
            label=spec.label or name,
            table_label=table.label or key,
            sql=tree,
            description=spec.description or None,
            hidden=spec.hidden,
            time_interval=interval,
            time_interval_base=spec.time_interval_base_dimension_name if interval else None,
            is_interval_base=spec.is_interval_base,
            is_additional=spec.is_additional_dimension,
            tables_references=_tables(tree, key),
            groups=spec.groups,
            format=spec.format,
            round=spec.round,
            case_sensitive=spec.case_sensitive,
            required_attributes=MappingProxyType(dict(spec.required_attributes)),
            any_attributes=_groups(spec.any_attributes),
            index=spec.index,
        )

    def _metric(self, key: str, table: TableJson, spec: FieldJson) -> Metric:
        kind = self._enum(MetricType, spec.type, key, spec.name)
        owner = f"metric {spec.name}"
        refs: set[tuple[str, str]] = set()
        tree = self._tree(
            spec.sql or spec.compiled_sql or "", key, owner, self._metric_ref(key, kind, refs)
        )
        keys = tuple(self._distinct_key(k, key, owner) for k in spec.distinct_keys)
        return Metric(
            name=spec.name,
            table=key,
            type=kind,
            label=spec.label or spec.name,
            table_label=table.label or key,
            sql=tree,
            description=spec.description or None,
            hidden=spec.hidden,
            filters=tuple(self._rule(r, key, f"filters of {owner}") for r in spec.filters),
            percentile=spec.percentile,
            distinct_keys=keys,
            dimension_reference=spec.dimension_reference,
            tables_references=_tables(tree, key) | {t for t, _ in refs},
            metric_references=frozenset(field_id(t, n) for t, n in refs),
            groups=spec.groups,
            format=spec.format,
            round=spec.round,
            required_attributes=MappingProxyType(dict(spec.required_attributes)),
            any_attributes=_groups(spec.any_attributes),
            index=spec.index,
            show_underlying_values=spec.show_underlying_values,
        )

    def _metric_ref(
        self, key: str, kind: MetricType, refs: set[tuple[str, str]]
    ) -> Callable[[str, bool], exp.Expr]:
        """Resolves `${field}` / `${table.field}` in a metric's `sql` (see the module doc)."""
        wants_metric = kind not in AGGREGATE_METRIC_TYPES

        def resolve(ref: str, has_aggregate: bool) -> exp.Expr:
            table, _, name = ref.rpartition(".")
            table = self._table_key(table or key, ref)
            metrics = self.spec.tables[table].metrics
            if (
                wants_metric
                and name in metrics
                and not (has_aggregate and name in self.dims[table])
            ):
                refs.add((table, name))
                return metric_ref(field_id(table, name))
            if name in self.dims.get(table, {}):
                return exp.Paren(this=self.dims[table][name].sql.copy())
            raise BadReference(
                ref,
                f"it matches no {'metric or ' if wants_metric else ''}dimension of table {table!r}",
            )

        return resolve

    def _distinct_key(self, text: str, key: str, owner: str) -> exp.Expr:
        dim = self.dims[key].get(text)
        return (
            dim.sql.copy() if dim is not None else self._tree(text, key, f"distinctKeys of {owner}")
        )

    def _table_key(self, name: str, ref: str) -> str:
        if name in self.spec.tables:
            return name
        for key, table in self.spec.tables.items():
            if table.original_name == name:
                return key
        raise BadReference(ref, f"table {name!r} is not part of the explore")

    def _tree(
        self,
        text: str,
        key: str,
        owner: str,
        other: Callable[[str, bool], exp.Expr] | None = None,
    ) -> exp.Expr:
        ctx = {"explore": self.spec.name, "table": key, "field": owner}
        snippet = parse_snippet(text, self.dialect, **ctx)
        has_aggregate = any(True for _ in snippet.tree.find_all(exp.AggFunc))

        def replace(ref: str) -> exp.Expr:
            marker = attribute_ref(ref)
            if marker is not None:
                return marker
            parameter = parameter_name(ref)
            if parameter is not None:  # a query without its definition raises when compiled
                return parameter_ref(parameter)
            if other is None:
                raise BadReference(ref, "compiled SQL holds only ${lightdash.…} references")
            return other(ref, has_aggregate)

        try:
            return substitute(snippet, key, replace)[0]
        except BadReference as bad:
            raise ProjectError(
                f"{owner} of explore {self.spec.name!r}: reference ${{{bad.ref}}} in {text!r} "
                f"cannot be resolved: {bad.why}",
                hint="check the field name and the table it belongs to",
                **ctx,
            ) from None

    def _join(self, join: JoinJson) -> Join:
        if join.table not in self.spec.tables:
            raise self._error(
                f"joined table {join.table!r} is not one of its tables",
                "every joinedTables entry needs its table under `tables`",
                table=join.table,
            )
        on = self._tree(join.compiled_sql_on or join.sql_on, join.table, f"join {join.table}")
        return Join(
            table=join.table,
            on=on,
            type=JoinType(join.type or "left"),
            relationship=Relationship(join.relationship) if join.relationship else None,
            always=join.always,
            hidden=join.hidden,
            tables_references=_tables(on, join.table) - {join.table},
        )

    def _rule(self, raw: dict[str, Any], key: str, where: str) -> FilterRule:
        try:
            rule = FilterRule.model_validate(raw)
        except ValidationError as err:
            raise self._error(
                f"{where}: not a valid filter rule ({err.errors()[0]['msg']})",
                "a rule is {target: {fieldRef}, operator, values}",
                table=key,
            ) from None
        table, _, name = rule.target.field_id.rpartition(".")
        table = table or key
        if name not in self.dims.get(table, {}):
            raise self._error(
                f"{where} filters {rule.target.field_id!r}, which is no dimension",
                "target {fieldRef: table.dimension}",
                table=key,
            )
        return rule.model_copy(update={"target": FilterTarget(field_id=field_id(table, name))})

    def _relation(self, text: str, key: str) -> exp.Expr:
        try:
            relation = relation_of(sqlglot.parse_one(text, read=self.dialect))
        except (ParseError, TokenError):
            relation = None
        if relation is not None:
            return relation
        raise self._error(
            f"sqlTable of table {key!r} is not a table name or a SELECT: {text!r}",
            "write db.schema.table or (SELECT …)",
            table=key,
        )

    def _enum(self, kind: Any, value: Any, key: str, name: str) -> Any:
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(v.value for v in kind)
            raise self._error(
                f"field {name!r} has an unknown {kind.__name__} {value!r}",
                f"use one of: {choices}",
                table=key,
                field=name,
            ) from None

    def _error(self, message: str, hint: str, **context: Any) -> ProjectError:
        return ProjectError(
            f"explore {self.spec.name!r}: {message}",
            hint=hint or None,
            explore=self.spec.name,
            **context,
        )


def _tables(tree: exp.Expr, own: str) -> frozenset[str]:
    """Tables a tree's columns are qualified with (its own table when none is)."""
    names = {c.table for c in tree.find_all(exp.Column) if c.table}
    return frozenset(names or {own})


def _groups(
    groups: tuple[Mapping[str, tuple[str, ...]], ...],
) -> tuple[Mapping[str, tuple[str, ...]], ...]:
    return tuple(MappingProxyType(dict(g)) for g in groups if g)
