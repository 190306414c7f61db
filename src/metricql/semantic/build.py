"""Build explores from model definitions: one per model and per `meta.explores` entry.

Each explore has a base model and its joins; a table may sit under an alias, so references are
resolved per explore (`resolve.py`) and each table's fields built in it (`tables.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from metricql.errors import CircularReferenceError, CompileError, MetricQLError
from metricql.limits import DEFAULT_LIMITS
from metricql.project.schema import ExploreMeta, JoinMeta, ProjectSchema
from metricql.query.model import FilterOperator
from metricql.semantic.explore import Explore, Join, JoinType, Relationship, Table
from metricql.semantic.fields import Dimension, Metric, friendly_name
from metricql.semantic.granularities import (
    CustomGranularity,
    custom_child,
    custom_granularities,
)
from metricql.semantic.isolation import unique_errors, without_dangling_metrics
from metricql.semantic.models import (
    ModelDef,
    build_model_defs,
    unread_models,
    with_explore_dimensions,
)
from metricql.semantic.parameters import Parameter, project_parameters
from metricql.semantic.refs import Snippet, parse_snippet
from metricql.semantic.resolve import Resolved, Resolver
from metricql.semantic.tables import TableCache, shared_table

ExploreErrors = dict[str, tuple[MetricQLError, ...]]


def build_explores(project: ProjectSchema) -> tuple[dict[str, Explore], ExploreErrors]:
    """Every explore that can be built, and each one that cannot with its errors.

    A broken field is left out of its explore (`Explore.field_errors`); a model that cannot be
    read, or an explore whose joins or filters fail, is an explore error, as in Lightdash.
    """
    defs, broken_models = build_model_defs(project, _dialect(project))
    explores = _Kept()
    broken = build_into(project, defs, broken_models, explores, {})
    return dict(explores), broken


class Sink(Protocol):
    """Where `build_into` puts each explore it built (and takes back a duplicate's)."""

    def __contains__(self, name: object) -> bool: ...
    def add(self, name: str, explore: Explore) -> None: ...
    def discard(self, name: str) -> None: ...


class _Kept(dict[str, Explore]):
    """Keeps every explore (the eager build)."""

    def add(self, name: str, explore: Explore) -> None:
        self[name] = explore

    def discard(self, name: str) -> None:
        self.pop(name, None)


def build_into(
    project: ProjectSchema,
    defs: Mapping[str, ModelDef],
    broken_models: Mapping[str, MetricQLError],
    out: Sink,
    shared: TableCache,
) -> ExploreErrors:
    """Build every explore of `project` into `out`, in model order; return the broken ones.

    `defs` and `broken_models` may make model definitions on demand (`semantic.stream`): only
    lookups by name are made, and iterating `defs` only names models in an error's hint.
    """
    dialect = _dialect(project)
    parameters = project_parameters(project)
    # lightdash.config.yml's custom granularities: a bad one is the project's problem (raised)
    grains = custom_granularities(project, dialect)
    broken: dict[str, list[MetricQLError]] = {}
    built = {m.name for m in project.models}
    for name, error in unread_models(project).items():
        if name not in built:  # left out while reading: its explore is broken
            broken.setdefault(name, []).append(error)
    for schema in project.models:
        model_error = broken_models.get(schema.name)
        if model_error is not None:
            names = [] if schema.meta.hidden else [schema.name]
            for name in [*names, *schema.meta.explores]:
                broken.setdefault(name, []).append(model_error)
            continue
        context = _Context(defs, broken_models, dialect, shared, parameters, grains)
        _model_explores(defs[schema.name], context, (out, broken))
    return {name: unique_errors(errors) for name, errors in broken.items()}


def _dialect(project: ProjectSchema) -> str:
    return project.source_dialect or (project.target.dialect if project.target else "duckdb")


def build_one(
    model: ModelDef,
    name: str,
    defs: Mapping[str, ModelDef],
    dialect: str,
    shared: TableCache,
    parameters: Mapping[str, Parameter],
    grains: Mapping[str, CustomGranularity],
) -> Explore:
    """Explore `name` of `model` (its base explore or one of its `meta.explores`) as
    `build_explores` makes it, for an explore that build found valid."""
    extra = model.schema.meta.explores.get(name)
    spec = _base_spec(model) if extra is None else _extra_spec(model, name, extra, dialect)
    explore = _explore(model, _Context(defs, {}, dialect, shared, parameters), spec)
    return _with_custom(explore, grains, defs) if grains else explore


@dataclass(frozen=True, slots=True)
class _Context:
    """What every explore of one build shares."""

    defs: Mapping[str, ModelDef]
    broken_models: Mapping[str, MetricQLError]
    dialect: str
    shared: TableCache
    parameters: Mapping[str, Parameter]  # project-level by name, model-level as model.name
    grains: Mapping[str, CustomGranularity] = field(default_factory=dict)


def _model_explores(
    model: ModelDef,
    context: _Context,
    out: tuple[Sink, dict[str, list[MetricQLError]]],
) -> None:
    """The base explore of `model` and its `meta.explores`, each built or recorded broken."""
    explores, broken = out
    dialect = context.dialect
    specs = [] if model.schema.meta.hidden else [_base_spec(model)]
    for name, extra in model.schema.meta.explores.items():
        try:
            specs.append(_extra_spec(model, name, extra, dialect))
        except MetricQLError as err:
            broken.setdefault(name, []).append(err)
    for spec in specs:
        if spec.name in explores or spec.name in broken:
            broken.setdefault(spec.name, []).append(
                CompileError(
                    f"explore {spec.name!r} is defined twice (model {model.name!r})",
                    hint="explore names must be unique across models and meta.explores",
                    explore=spec.name,
                    model=model.name,
                    file=str(model.schema.file) if model.schema.file else None,
                )
            )
            explores.discard(spec.name)
            continue
        try:
            explore = _explore(model, context, spec)
        except MetricQLError as err:
            broken.setdefault(spec.name, []).append(err)
            continue
        if context.grains:
            explore = _with_custom(explore, context.grains, context.defs)
        explores.add(spec.name, explore)


@dataclass(frozen=True, slots=True)
class _ExploreSpec:
    """What differs between a model's base explore and its additional `meta.explores`."""

    name: str
    label: str
    description: str | None
    joins: tuple[tuple[JoinMeta, Snippet], ...]
    sql_where: Snippet | None
    required_filters: tuple[dict[str, Any], ...]
    default_filters: tuple[dict[str, Any], ...]
    case_sensitive: bool | None
    groups: tuple[str, ...]
    required_attributes: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    base: ModelDef | None = None  # the model with this explore's own additional dimensions


def _base_spec(model: ModelDef) -> _ExploreSpec:
    meta = model.schema.meta
    return _ExploreSpec(
        name=model.name,
        label=model.label,
        description=model.schema.description,
        joins=model.joins,
        sql_where=model.sql_where,
        required_filters=meta.required_filters,
        default_filters=meta.default_filters,
        case_sensitive=meta.case_sensitive,
        groups=meta.groups,
    )


def _extra_spec(model: ModelDef, name: str, extra: ExploreMeta, dialect: str) -> _ExploreSpec:
    """An additional explore on the same base table; unset keys fall back to the model's."""
    base = _base_spec(model)
    ctx = {
        "file": str(model.schema.file) if model.schema.file else None,
        "model": model.name,
        "explore": name,
    }
    joins = base.joins
    if extra.joins is not None:
        joins = tuple(
            (
                j,
                parse_snippet(
                    j.sql_on, dialect, field=f"sql_on of join {j.alias or j.join}", **ctx
                ),
            )
            for j in extra.joins
        )
    where_text = extra.sql_filter or extra.sql_where
    where = parse_snippet(where_text, dialect, field="sql_filter", **ctx) if where_text else None
    return _ExploreSpec(
        name=name,
        label=extra.label or friendly_name(name),
        description=extra.description or base.description,
        joins=joins,
        sql_where=where if where is not None else base.sql_where,
        required_filters=extra.required_filters
        if extra.required_filters is not None
        else base.required_filters,
        default_filters=extra.default_filters
        if extra.default_filters is not None
        else base.default_filters,
        case_sensitive=extra.case_sensitive
        if extra.case_sensitive is not None
        else base.case_sensitive,
        groups=extra.groups or base.groups,
        required_attributes=MappingProxyType(dict(extra.required_attributes)),
        base=with_explore_dimensions(model, extra.additional_dimensions, dialect, name)
        if extra.additional_dimensions
        else None,
    )


def _explore(base: ModelDef, context: _Context, spec: _ExploreSpec) -> Explore:
    defs, broken_models, shared = context.defs, context.broken_models, context.shared
    if spec.base is not None:  # its own dimensions: its tables are its own, not shared
        base, shared = spec.base, {}
    ctx = {
        "explore": spec.name,
        "file": str(base.schema.file) if base.schema.file else None,
        "line": base.schema.line,
    }
    tables: dict[str, ModelDef] = {base.name: base}
    for meta, _ in spec.joins:
        key = meta.alias or meta.join
        failed = broken_models.get(meta.join)
        if failed is not None:  # its own error, not a cascade of "cannot find table"
            raise CompileError(
                f'Failed to compile explore "{spec.name}". Tried to join table "{meta.join}" '
                f'to "{base.name}" but table "{meta.join}" has errors: {failed.message}',
                hint=f"fix model {meta.join!r} first ({failed.where.prefix.rstrip(': ')})",
                depends_on=meta.join,
                **ctx,
            )
        if meta.join not in defs:
            raise CompileError(
                f'Failed to compile explore "{base.name}". Tried to join table "{meta.join}" to '
                f'"{base.name}" but cannot find table with name "{meta.join}"',
                hint=f"models are: {', '.join(sorted(defs))}",
                **ctx,
            )
        if key in tables:
            raise CompileError(
                f'Failed to compile explore "{base.name}". Cannot join to the same table '
                f"\"{key}\" multiple times in an explore. Use an 'alias'",
                hint="give each join of the same model a distinct `alias:`",
                **ctx,
            )
        tables[key] = defs[meta.join]
    parameters = {
        n: p
        for n, p in context.parameters.items()
        if "." not in n or n.partition(".")[0] in {m.name for m in tables.values()}
    }
    resolver = Resolver(spec.name, tables, ctx, frozenset(parameters))
    joins = tuple(_join(meta, snippet, resolver) for meta, snippet in spec.joins)
    join_metas = {m.alias or m.join: m for m, _ in spec.joins}
    built = {
        key: shared_table(key, model, resolver, join_metas.get(key), shared)
        for key, model in tables.items()
    }
    defaults = resolver.filter_rules(
        list(spec.required_filters), base.name, "required_filters", required_default=True
    ) + resolver.filter_rules(
        list(spec.default_filters), base.name, "default_filters", required_default=False
    )
    hidden = [r.target.field_id for r in defaults if _is_hidden(built, r.target.field_id)]
    if hidden:
        raise CompileError(
            f'Failed to compile explore "{base.name}". Hidden fields can\'t be used in '
            f"default_filters or required_filters: {', '.join(hidden)}",
            hint="unhide the dimensions or filter on visible ones",
            **ctx,
        )
    built[base.name] = replace(built[base.name], default_filters=defaults)
    where = None
    if spec.sql_where is not None:
        where = resolver.resolve(spec.sql_where, base.name, "where", "sql_filter")
    built[base.name] = _with_where(built[base.name], where)
    check_metric_cycles(built.values(), ctx)
    built = without_dangling_metrics(built, tables, spec.name)
    dimensions = _unique_ids([d for t in built.values() for d in t.dimensions.values()], ctx)
    metrics = _unique_ids([m for t in built.values() for m in t.metrics.values()], ctx)
    return Explore(
        name=spec.name,
        label=spec.label,
        base_table=base.name,
        tables=MappingProxyType(built),
        joins=joins,
        dimensions=MappingProxyType(dimensions),
        metrics=MappingProxyType(metrics),
        description=spec.description,
        case_sensitive=spec.case_sensitive,
        groups=spec.groups,
        issues=tuple(i for t in tables.values() for i in t.issues),
        source_dialect=context.dialect,
        metric_filter_operators=_filter_operators(metrics),
        required_attributes=spec.required_attributes,
        parameters=MappingProxyType(parameters),
    )


def _with_custom(
    explore: Explore, grains: Mapping[str, CustomGranularity], defs: Mapping[str, ModelDef]
) -> Explore:
    """`explore` knowing the project's custom granularities, with a `<dimension>_<name>`
    field for each one a dimension's `time_intervals` lists."""
    tables = dict(explore.tables)
    for alias, table in explore.tables.items():
        model = defs.get(table.original_name)
        children = {
            f"{alias}_{d.name}_{g}": custom_child(table.dimensions[d.name], grains[g])
            for d in (model.dimensions.values() if model else ())
            if d.name in table.dimensions
            for g in d.custom_intervals
        }
        if children:
            by_name = {c.name: c for c in children.values()}
            tables[alias] = replace(
                table, dimensions=MappingProxyType({**table.dimensions, **by_name})
            )
    added = {d.id: d for t in tables.values() for d in t.dimensions.values()}
    return replace(
        explore,
        tables=MappingProxyType(tables),
        dimensions=MappingProxyType({**explore.dimensions, **added}),
        custom_granularities=grains,
    )


_F = TypeVar("_F", Dimension, Metric)


def _unique_ids(fields: list[_F], ctx: dict[str, Any]) -> dict[str, _F]:
    """Fields by id; two fields of different tables with one id (`a_b`.`c` and `a`.`b_c`)
    are a CompileError instead of one silently hiding the other."""
    out: dict[str, _F] = {}
    for f in fields:
        other = out.get(f.id)
        if other is not None and (other.table, other.name) != (f.table, f.name):
            raise CompileError(
                f"fields {other.table}.{other.name} and {f.table}.{f.name} share the id {f.id!r}",
                hint="rename one of them, or join the table under an alias",
                field=f.id,
                **ctx,
            )
        out[f.id] = f
    return out


def _filter_operators(metrics: Mapping[str, Metric]) -> Mapping[str, frozenset[FilterOperator]]:
    """Each metric's filter operators, through the metrics it references (cycles are rejected
    before this runs); only metrics that have some."""
    memo: dict[str, frozenset[FilterOperator]] = {}

    def of(metric_id: str) -> frozenset[FilterOperator]:
        if metric_id not in memo:
            metric = metrics.get(metric_id)
            own = frozenset(r.operator for r in metric.filters) if metric else frozenset()
            refs = metric.metric_references if metric else frozenset()
            memo[metric_id] = own.union(*(of(r) for r in refs))
        return memo[metric_id]

    return MappingProxyType({m: ops for m in metrics if (ops := of(m))})


def _is_hidden(tables: Mapping[str, Table], fid: str) -> bool:
    return any(d.hidden for t in tables.values() for d in t.dimensions.values() if d.id == fid)


def _with_where(table: Table, where: Resolved | None) -> Table:
    if where is None:
        return table
    return replace(table, sql_where=where.tree, sql_where_tables=where.tables)


def _join(meta: JoinMeta, snippet: Snippet, resolver: Resolver) -> Join:
    key = meta.alias or meta.join
    on = resolver.resolve(snippet, key, "join", f"join {key}")
    return Join(
        table=key,
        on=on.tree,
        type=JoinType(meta.type),
        relationship=Relationship(meta.relationship) if meta.relationship else None,
        always=meta.always,
        hidden=meta.hidden,
        tables_references=on.tables - {key},
    )


def check_metric_cycles(tables: Iterable[Table], ctx: dict[str, Any]) -> None:
    graph = {m.id: m.metric_references for t in tables for m in t.metrics.values()}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = [*path[path.index(node) :], node]
            raise CircularReferenceError(
                f"metrics reference each other in a cycle: {' → '.join(cycle)}",
                hint="break the cycle: a metric cannot depend on itself",
                cycle=cycle,
                **ctx,
            )
        if node in done:
            return
        if len(path) >= DEFAULT_LIMITS.reference_depth:  # before the recursion grows with it
            raise CompileError(
                f"metric {node} ends a chain of more than {DEFAULT_LIMITS.reference_depth} "
                f"metric references, from {path[0]}",
                hint="shorten the chain, or raise Limits.reference_depth",
                field=node,
                limit="reference_depth",
                **ctx,
            )
        for nxt in graph.get(node, ()):
            visit(nxt, [*path, node])
        done.add(node)

    for start in graph:
        visit(start, [])


__all__ = ["Sink", "build_explores", "build_into", "build_one", "check_metric_cycles"]
