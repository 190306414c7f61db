"""Build explores from model definitions: resolve `${...}` references into sqlglot trees.

Each explore has a base model and its joins; a table may sit under an alias, so references are
resolved per explore. Every cycle of references is found and reported with its whole path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Literal

from sqlglot import exp

from metricql.errors import CircularReferenceError, CompileError, MetricQLError, QueryError
from metricql.project.schema import ExploreMeta, JoinMeta, ProjectSchema
from metricql.query.model import FilterRule, FilterTarget
from metricql.query.parse import parse_filter_entries
from metricql.semantic.explore import Explore, Join, JoinType, Relationship, Table
from metricql.semantic.fields import (
    AGGREGATE_METRIC_TYPES,
    INTERVAL_LABELS,
    INTERVAL_TYPES,
    NON_AGGREGATE_METRIC_TYPES,
    POST_CALCULATION_METRIC_TYPES,
    Dimension,
    Metric,
    MetricType,
    field_id,
    friendly_name,
)
from metricql.semantic.models import DimDef, MetricDef, ModelDef, build_model_defs
from metricql.semantic.refs import (
    BadReference,
    Snippet,
    attribute_ref,
    interval_of,
    metric_ref,
    parse_snippet,
    substitute,
)
from metricql.semantic.sets import expand_fields

Mode = Literal["dimension", "aggregate", "metric", "post", "join", "where"]


@dataclass(frozen=True, slots=True)
class _Resolved:
    tree: exp.Expr
    tables: frozenset[str]
    metrics: frozenset[str] = frozenset()


def build_explores(project: ProjectSchema) -> tuple[dict[str, Explore], list[MetricQLError]]:
    """Every explore of the project, and every problem found while building them."""
    dialect = project.target.dialect if project.target else "duckdb"
    defs, problems = build_model_defs(project, dialect)
    explores: dict[str, Explore] = {}
    shared: TableCache = {}
    for model in defs.values():
        specs = [] if model.schema.meta.hidden else [_base_spec(model)]
        try:
            specs += [
                _extra_spec(model, n, e, dialect) for n, e in model.schema.meta.explores.items()
            ]
        except MetricQLError as err:
            problems.append(err)
        for spec in specs:
            if spec.name in explores:
                problems.append(
                    CompileError(
                        f"explore {spec.name!r} is defined twice (model {model.name!r})",
                        hint="explore names must be unique across models and meta.explores",
                        explore=spec.name,
                        model=model.name,
                    )
                )
                continue
            try:
                explores[spec.name] = _explore(model, defs, dialect, spec, shared)
            except MetricQLError as err:
                problems.append(err)
    # A model's problem shows in each explore built on it: report it once.
    unique = {(type(p), str(p)): p for p in problems}
    return explores, list(unique.values())


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
    )


def _explore(
    base: ModelDef,
    defs: Mapping[str, ModelDef],
    dialect: str,
    spec: _ExploreSpec,
    shared: TableCache,
) -> Explore:
    ctx = {"explore": spec.name, "file": str(base.schema.file) if base.schema.file else None}
    tables: dict[str, ModelDef] = {base.name: base}
    for meta, _ in spec.joins:
        key = meta.alias or meta.join
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
    resolver = _Resolver(spec.name, tables, ctx)
    joins = tuple(_join(meta, snippet, resolver) for meta, snippet in spec.joins)
    join_metas = {m.alias or m.join: m for m, _ in spec.joins}
    built = {
        key: _shared_table(key, model, resolver, join_metas.get(key), shared)
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
    dimensions = {d.id: d for t in built.values() for d in t.dimensions.values()}
    metrics = {m.id: m for t in built.values() for m in t.metrics.values()}
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
        warnings=tuple(w for t in tables.values() for w in t.warnings),
        source_dialect=dialect,
    )


def _is_hidden(tables: Mapping[str, Table], fid: str) -> bool:
    return any(d.hidden for t in tables.values() for d in t.dimensions.values() if d.id == fid)


def _with_where(table: Table, where: _Resolved | None) -> Table:
    if where is None:
        return table
    return replace(table, sql_where=where.tree, sql_where_tables=where.tables)


def _join(meta: JoinMeta, snippet: Snippet, resolver: _Resolver) -> Join:
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


TableCache = dict[tuple[Any, ...], Table]


def _shared_table(
    key: str, model: ModelDef, resolver: _Resolver, join: JoinMeta | None, shared: TableCache
) -> Table:
    """`_table`, reused across explores when its fields read no other table.

    A model is joined into many explores; its fields resolve the same way in each unless they
    reference another table, so a self-contained table is built once per alias and join shape.
    """
    shape = None  # a join that changes nothing of the table shares the base build
    if join is not None:
        on_dims = frozenset(resolver.join_dimensions.get(key, ())) if join.fields else frozenset()
        shape = (join.label, join.alias, join.fields, join.hidden, join.description, on_dims)
        if shape == (None, None, None, False, None, frozenset()):
            shape = None
    cache_key = (model.name, key, shape)
    table = shared.get(cache_key)
    if table is None:
        table = _table(key, model, resolver, join)
        own_metrics = {m.id for m in table.metrics.values()}
        if all(d.tables_references <= {key} for d in table.dimensions.values()) and all(
            m.tables_references <= {key} and m.metric_references <= own_metrics
            for m in table.metrics.values()
        ):
            shared[cache_key] = table
    return table


def _table(key: str, model: ModelDef, resolver: _Resolver, join: JoinMeta | None) -> Table:
    label = (join.label or friendly_name(join.alias)) if join and join.alias else model.label
    if join and join.label:
        label = join.label
    keep = None
    if join and join.fields is not None:
        keep = set(
            expand_fields(
                join.fields,
                model.schema.meta.sets,
                where=f"fields of join {key}",
                model=model.name,
                file=str(model.schema.file) if model.schema.file else None,
            )
        )
    on_dims = resolver.join_dimensions.get(key, set())
    dims: dict[str, Dimension] = {}
    for ddef in model.dimensions.values():
        if keep is not None and ddef.name not in keep and ddef.name not in on_dims:
            continue
        hidden = bool(join and join.hidden) or (keep is not None and ddef.name not in keep)
        for dim in _dimensions(key, label, ddef, resolver, hidden):
            dims[dim.name] = dim
    metrics: dict[str, Metric] = {}
    for mdef in model.metrics.values():
        if keep is not None and mdef.name not in keep:
            continue
        metrics[mdef.name] = _metric(key, label, mdef, resolver, bool(join and join.hidden))
    meta = model.schema.meta
    return Table(
        name=key,
        original_name=model.name,
        label=label,
        description=(join.description if join else None) or model.schema.description,
        relation=model.relation,
        dimensions=MappingProxyType(dims),
        metrics=MappingProxyType(metrics),
        primary_key=meta.primary_key,
        required_attributes=MappingProxyType(dict(meta.required_attributes)),
        hidden=bool(join and join.hidden),
        case_sensitive=meta.case_sensitive,
    )


def _dimensions(
    key: str, table_label: str, ddef: DimDef, resolver: _Resolver, hidden: bool
) -> Iterable[Dimension]:
    resolved = resolver.dimension(key, ddef.name)
    meta = ddef.meta
    groups = meta.groups or ((meta.group_label,) if meta.group_label else ())
    common: dict[str, Any] = {
        "table": key,
        "table_label": table_label,
        "description": meta.description,
        "hidden": hidden or meta.hidden,
        "tables_references": resolved.tables,
        "format": meta.format,
        "round": meta.round,
        "case_sensitive": meta.case_sensitive,
        "required_attributes": MappingProxyType(dict(meta.required_attributes)),
    }
    yield Dimension(
        name=ddef.name,
        type=ddef.type,
        label=ddef.label,
        sql=resolved.tree,
        is_interval_base=bool(ddef.intervals),
        is_additional=ddef.is_additional,
        groups=groups,
        **common,
    )
    for interval in ddef.intervals:
        yield Dimension(
            name=f"{ddef.name}_{interval.value.lower()}",
            type=INTERVAL_TYPES[interval] or ddef.type,
            label=f"{ddef.label} {INTERVAL_LABELS[interval].lower()}",
            sql=resolver.dimension(key, f"{ddef.name}_{interval.value.lower()}").tree,
            time_interval=interval,
            time_interval_base=ddef.name,
            groups=(*groups, ddef.label),
            **common,
        )


def _metric(
    key: str, table_label: str, mdef: MetricDef, resolver: _Resolver, hidden: bool
) -> Metric:
    owner = f"metric {mdef.name}"
    mode: Mode = "aggregate"
    if mdef.type in POST_CALCULATION_METRIC_TYPES:
        mode = "post"
    elif mdef.type in NON_AGGREGATE_METRIC_TYPES:
        mode = "metric"
    resolved = resolver.resolve(mdef.snippet, key, mode, owner)
    keys = tuple(resolver.resolve(k, key, "aggregate", owner).tree for k in mdef.distinct_keys)
    meta = mdef.meta
    return Metric(
        name=mdef.name,
        table=key,
        type=mdef.type,
        label=mdef.label,
        table_label=table_label,
        sql=resolved.tree,
        description=mdef.description,
        hidden=hidden or meta.hidden,
        percentile=meta.percentile if mdef.type is MetricType.PERCENTILE else None,
        distinct_keys=keys,
        dimension_reference=field_id(key, mdef.dimension_reference)
        if mdef.dimension_reference
        else None,
        tables_references=resolved.tables,
        metric_references=resolved.metrics,
        groups=meta.groups or ((meta.group_label,) if meta.group_label else ()),
        format=meta.format,
        round=meta.round,
        required_attributes=MappingProxyType(_metric_attributes(mdef, resolver.tables[key])),
        show_underlying_values=meta.show_underlying_values,
        filters=_metric_filters(mdef, key, resolver),
    )


def _metric_attributes(mdef: MetricDef, model: ModelDef) -> dict[str, tuple[str, ...]]:
    """A column metric inherits the required attributes of its dimension."""
    inherited = {}
    if mdef.dimension_reference and mdef.dimension_reference in model.dimensions:
        inherited = dict(model.dimensions[mdef.dimension_reference].meta.required_attributes)
    return {**inherited, **mdef.meta.required_attributes}


def _metric_filters(mdef: MetricDef, key: str, resolver: _Resolver) -> tuple[FilterRule, ...]:
    """YAML `filters:` of a metric as rules on dimension field ids (CASE WHEN in the aggregate)."""
    if not mdef.meta.filters:
        return ()
    if mdef.type not in AGGREGATE_METRIC_TYPES:
        raise CompileError(
            f"{mdef.name} - metric filters cannot be used with non-aggregate or "
            "post-calculation metrics",
            hint="move the filter into the metrics this metric references",
            field=mdef.name,
            **resolver.ctx,
        )
    return resolver.filter_rules(
        list(mdef.meta.filters), key, f"filters of metric {mdef.name}", required_default=False
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
        for nxt in graph.get(node, ()):
            visit(nxt, [*path, node])
        done.add(node)

    for start in graph:
        visit(start, [])


class _Resolver:
    """Resolves references inside one explore, memoising dimensions and detecting cycles."""

    def __init__(self, explore: str, tables: Mapping[str, ModelDef], ctx: dict[str, Any]) -> None:
        self.explore = explore
        self.tables = tables
        self.ctx = ctx
        self._dims: dict[tuple[str, str], _Resolved] = {}
        self._stack: list[tuple[str, str]] = []
        self.join_dimensions: dict[str, set[str]] = {}

    def filter_rules(
        self, entries: list[Any], key: str, where: str, *, required_default: bool
    ) -> tuple[FilterRule, ...]:
        """Parse YAML filter shorthand; targets become dimension field ids of this explore."""
        try:
            parsed = parse_filter_entries(entries, required_default=required_default, where=where)
        except QueryError as err:
            raise CompileError(err.message, hint=err.hint, field=where, **self.ctx) from None
        out = []
        for rule, _ in parsed:
            ref = rule.target.field_id
            parts = ref.split(".")
            if len(parts) > 2 or not all(parts):
                raise CompileError(
                    f"{where}: filter field {ref!r} must be field or table.field",
                    hint="use at most one dot",
                    field=where,
                    **self.ctx,
                )
            table = self.table_key(parts[0], where, ref) if len(parts) == 2 else key
            try:
                self.dimension(table, parts[-1])
            except KeyError:
                raise CompileError(
                    f'{where} in explore "{self.explore}" filters {ref!r}, which matches no '
                    f"dimension of table {table!r}",
                    hint="filter a dimension: field or table.field",
                    field=where,
                    **self.ctx,
                ) from None
            target = FilterTarget(field_id=field_id(table, parts[-1]))
            out.append(rule.model_copy(update={"target": target}))
        return tuple(out)

    def table_key(self, name: str, owner: str, ref: str) -> str:
        if name in self.tables:
            return name
        for key, model in self.tables.items():
            if model.name == name:
                return key
        raise CompileError(
            f'{owner} in explore "{self.explore}" references ${{{ref}}}, but table "{name}" '
            "is not part of this explore",
            hint=f"tables here: {', '.join(self.tables)}; join the model or fix the reference",
            field=owner,
            **self.ctx,
        )

    def dimension(self, key: str, name: str) -> _Resolved:
        """Tree of dimension `name` of table `key` (interval children included)."""
        found = self._dims.get((key, name))
        if found is not None:
            return found
        model = self.tables[key]
        ddef = model.dimensions.get(name)
        if ddef is None:
            base, interval = _interval_child(model, name)
            if base is None or interval is None:
                raise KeyError(name)
            parent = self.dimension(key, base.name)
            tree: exp.Expr = interval_of(parent.tree.copy(), interval, base.type)
            result = _Resolved(tree, parent.tables)
        else:
            if (key, name) in self._stack:
                start = self._stack.index((key, name))
                path = [f"{t}.{n}" for t, n in self._stack[start:]] + [f"{key}.{name}"]
                raise CircularReferenceError(
                    f"dimensions reference each other in a cycle: {' → '.join(path)}",
                    hint="break the cycle: a dimension cannot depend on itself",
                    cycle=path,
                    model=model.name,
                    field=name,
                    **{k: v for k, v in self.ctx.items() if k != "model"},
                )
            self._stack.append((key, name))
            try:
                result = self.resolve(ddef.snippet, key, "dimension", f"dimension {name}")
            finally:
                self._stack.pop()
        self._dims[(key, name)] = result
        return result

    def resolve(self, snippet: Snippet, key: str, mode: Mode, owner: str) -> _Resolved:
        """Copy of the snippet's tree with every reference substituted."""
        tables: set[str] = set()
        metrics: set[str] = set()
        prefer_dims = mode == "metric" and any(True for _ in snippet.tree.find_all(exp.AggFunc))
        try:
            tree, uses_table = substitute(
                snippet,
                key,
                lambda ref: self._reference(
                    ref, key, mode, owner, snippet, prefer_dims, tables, metrics
                ),
            )
        except BadReference as bad:
            raise self._error(owner, bad.ref, snippet, bad.why) from None
        if uses_table:
            tables.add(key)
        return _Resolved(tree, frozenset(tables), frozenset(metrics))

    def _reference(
        self,
        ref: str,
        key: str,
        mode: Mode,
        owner: str,
        snippet: Snippet,
        prefer_dims: bool,
        tables: set[str],
        metrics: set[str],
    ) -> exp.Expr:
        attr = attribute_ref(ref)
        if attr is not None:
            return attr
        if ref.startswith(("lightdash.", "ld.")):
            raise self._error(owner, ref, snippet, "unknown lightdash.* reference")
        parts = ref.split(".")
        if len(parts) > 2 or not all(parts):
            raise self._error(owner, ref, snippet, "a reference is ${field} or ${table.field}")
        table = self.table_key(parts[0], owner, ref) if len(parts) == 2 else key
        name = parts[-1]
        model = self.tables[table]
        want_metric = mode in ("metric", "post")
        is_dim = name in model.dimensions or _interval_child(model, name)[0] is not None
        is_metric = name in model.metrics
        if mode == "metric" and prefer_dims and is_dim:
            want_metric = False
        if want_metric and is_metric:
            target = model.metrics[name]
            if mode == "post" and target.type in POST_CALCULATION_METRIC_TYPES:
                raise self._error(
                    owner, ref, snippet, "post-calculation metrics cannot reference each other"
                )
            metrics.add(field_id(table, name))
            tables.add(table)
            return metric_ref(field_id(table, name))
        if not want_metric and is_dim:
            if mode == "join":
                self.join_dimensions.setdefault(table, set()).add(name)
            resolved = self.dimension(table, name)
            tables.update(resolved.tables or {table})
            return exp.Paren(this=resolved.tree.copy())
        kind = "metric" if want_metric else "dimension"
        raise self._error(owner, ref, snippet, f"it matches no {kind} of table {table!r}")

    def _error(self, owner: str, ref: str, snippet: Snippet, why: str) -> CompileError:
        return CompileError(
            f'{owner} in explore "{self.explore}": reference ${{{ref}}} in {snippet.text!r} '
            f"cannot be resolved: {why}",
            hint="check the field name and the table it belongs to",
            field=owner,
            **self.ctx,
        )


def _interval_child(model: ModelDef, name: str) -> tuple[DimDef | None, Any]:
    """(base DimDef, TimeInterval) when `name` is `<base>_<interval>` of one of its intervals."""
    for ddef in model.dimensions.values():
        prefix = ddef.name + "_"
        if ddef.intervals and name.startswith(prefix):
            wanted = name[len(prefix) :].upper()
            for interval in ddef.intervals:
                if interval.value == wanted:
                    return ddef, interval
    return None, None


__all__ = ["build_explores", "check_metric_cycles"]
