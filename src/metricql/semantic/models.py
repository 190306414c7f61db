"""Model definitions: each dbt model's fields with their SQL parsed once, before any explore.

A `ModelDef` is explore-independent: `${TABLE}` and other references are still placeholders;
`build.py` resolves them per explore (where the table may sit under an alias).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from sqlglot import exp

from metricql.errors import CompileError, Issue, MetricQLError, ProjectError, Where
from metricql.project.schema import (
    ColumnSchema,
    DimensionMeta,
    JoinMeta,
    MetricMeta,
    ModelSchema,
    ProjectSchema,
)
from metricql.semantic.fields import (
    DEFAULT_DATE_INTERVALS,
    DEFAULT_TIMESTAMP_INTERVALS,
    DimensionType,
    MetricType,
    TimeInterval,
    friendly_name,
)
from metricql.semantic.refs import Snippet, parse_snippet
from metricql.semantic.relations import model_relation
from metricql.semantic.warehouse_types import warehouse_dimension_type


@dataclass(frozen=True, slots=True)
class DimDef:
    """A dimension as written, SQL parsed, references unresolved."""

    name: str
    type: DimensionType
    label: str
    snippet: Snippet
    meta: DimensionMeta
    intervals: tuple[TimeInterval, ...] = ()
    is_additional: bool = False
    line: int | None = None
    custom_intervals: tuple[str, ...] = ()  # custom granularities its time_intervals list


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A metric as written, SQL parsed, references unresolved."""

    name: str
    type: MetricType
    label: str
    description: str | None
    snippet: Snippet
    meta: MetricMeta
    distinct_keys: tuple[Snippet, ...] = ()
    dimension_reference: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ModelDef:
    """One model with every snippet parsed."""

    schema: ModelSchema
    label: str
    relation: exp.Expr
    dimensions: Mapping[str, DimDef]
    metrics: Mapping[str, MetricDef]
    sql_where: Snippet | None
    joins: tuple[tuple[JoinMeta, Snippet], ...] = ()
    issues: tuple[Issue, ...] = ()  # warnings found while reading the model
    row_filter: Snippet | None = None  # meta.row_filter: every scan of the table
    # Fields left out because of their own error (by field name), as Lightdash leaves a broken
    # field out of its explore and keeps the rest.
    field_errors: Mapping[str, MetricQLError] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Model name."""
        return self.schema.name


def dimension_type(
    raw: str | None, data_type: str | None, dialect: str = "duckdb", **context: Any
) -> DimensionType:
    """Type from `meta.dimension.type`, else the column's warehouse `data_type`, else string."""
    if raw is not None:
        try:
            return DimensionType(str(raw).lower())
        except ValueError:
            raise ProjectError(
                f"could not recognise type {raw!r} for dimension {context.get('field')!r}",
                hint="valid types are: string, number, timestamp, date, boolean",
                **context,
            ) from None
    if data_type:
        return warehouse_dimension_type(data_type, dialect)
    return DimensionType.STRING


def time_intervals(
    meta: DimensionMeta, kind: DimensionType, custom: frozenset[str] = frozenset(), **context: Any
) -> tuple[tuple[TimeInterval, ...], tuple[Issue, ...]]:
    """Interval children of a date/timestamp dimension, and warnings for unknown names (a
    `custom` granularity name is known: queries reach it as `<dimension>_<name>`)."""
    if kind not in (DimensionType.DATE, DimensionType.TIMESTAMP):
        return (), ()
    raw = meta.time_intervals
    if raw is None or (isinstance(raw, str) and raw.lower() == "default") or raw is True:
        default = (
            DEFAULT_TIMESTAMP_INTERVALS
            if kind is DimensionType.TIMESTAMP
            else DEFAULT_DATE_INTERVALS
        )
        return default, ()
    if raw is False or (isinstance(raw, str) and raw.upper() == "OFF"):
        return (), ()
    names = (raw,) if isinstance(raw, str) else raw
    out: list[TimeInterval] = []
    issues: list[Issue] = []
    for name in names:
        try:
            interval = TimeInterval(str(name).upper())
        except ValueError:
            if str(name) in custom:
                continue
            issues.append(
                Issue(
                    "unknown_time_interval",
                    f"unknown time interval {name!r} on dimension {context.get('field')!r} "
                    f"of model {context.get('model')!r} was skipped",
                    hint=f"use one of: {', '.join(i.value for i in TimeInterval)}",
                    where=Where.of(context),
                )
            )
            continue
        if interval not in out:
            out.append(interval)
    return tuple(out), tuple(issues)


def build_model_defs(
    project: ProjectSchema, dialect: str
) -> tuple[dict[str, ModelDef], dict[str, MetricQLError]]:
    """Parse every model's snippets once; a model that cannot be read at all is returned as
    its error (by model name), a broken field as an error on its model."""
    defs: dict[str, ModelDef] = {}
    broken: dict[str, MetricQLError] = unread_models(project)
    read_errors = field_read_errors(project)
    for model in project.models:
        try:
            defs[model.name] = model_def(model, project, dialect, read_errors.get(model.name, {}))
        except MetricQLError as err:
            broken[model.name] = err
    return defs, broken


def unread_models(project: ProjectSchema) -> dict[str, MetricQLError]:
    """Models left out while reading, each with its first error."""
    out: dict[str, MetricQLError] = {}
    for err in project.model_errors:
        if err.context.get("field") is None:
            out.setdefault(str(err.context["model"]), err)
    return out


def field_read_errors(project: ProjectSchema) -> dict[str, dict[str, MetricQLError]]:
    """Fields left out while reading: model → field → error."""
    out: dict[str, dict[str, MetricQLError]] = {}
    for err in project.model_errors:
        if (name := err.context.get("field")) is not None:
            out.setdefault(str(err.context["model"]), {})[str(name)] = err
    return out


def model_def(
    model: ModelSchema,
    project: ProjectSchema,
    dialect: str,
    read_errors: Mapping[str, MetricQLError],
) -> ModelDef:
    """One model's definition (raises what breaks the whole model); `read_errors` are its
    fields left out while reading."""
    built = _model_def(model, project, dialect)
    errors = {**read_errors, **built.field_errors}
    return replace(built, field_errors=errors) if errors else built


def _model_def(model: ModelSchema, project: ProjectSchema, dialect: str) -> ModelDef:
    ctx = {"file": str(model.file) if model.file else None, "model": model.name}
    model_ctx = {**ctx, "line": model.line}  # what is the model's own: relation, joins, filter
    dims: dict[str, DimDef] = {}
    metrics: dict[str, MetricDef] = {}
    issues: list[Issue] = []
    errors: dict[str, MetricQLError] = {}
    seen: set[str] = set()
    custom = frozenset(project.custom_granularities)
    for column in model.columns:
        if column.name in seen:  # the second would silently replace the first
            errors[column.name] = CompileError(
                f"column {column.name!r} is listed twice in model {model.name!r}",
                hint="merge the two entries into one",
                field=column.name,
                line=column.line,
                **ctx,
            )
            continue
        seen.add(column.name)
        _column_fields(column, dialect, ctx, (dims, metrics, errors), issues, custom)
    for name, meta in model.meta.metrics.items():
        try:
            metrics[name] = _model_metric(name, meta, dialect, ctx)
        except MetricQLError as err:
            errors[name] = err
    for name in [m for m in metrics if m in dims]:
        del metrics[name]
        issues.append(
            Issue(
                "metric_shadowed",
                f'Skipped metric "{name}" because a dimension with the same name exists. '
                "Dimensions take priority.",
                hint="rename the metric",
                where=Where.of({**ctx, "field": name}),
            )
        )
    where = model.meta.sql_filter or model.meta.sql_where
    return ModelDef(
        schema=model,
        label=model.meta.label or friendly_name(model.name),
        relation=model_relation(model, project, dialect, model_ctx),
        dimensions=dims,
        metrics=metrics,
        sql_where=parse_snippet(where, dialect, field="sql_filter", **model_ctx) if where else None,
        row_filter=parse_snippet(row_filter, dialect, field="row_filter", **ctx)
        if (row_filter := model.meta.row_filter)
        else None,
        joins=tuple(
            (
                j,
                parse_snippet(
                    j.sql_on, dialect, field=f"sql_on of join {j.alias or j.join}", **model_ctx
                ),
            )
            for j in model.meta.joins
        ),
        issues=tuple(issues),
        field_errors=errors,
    )


def with_explore_dimensions(
    model: ModelDef, extra: Mapping[str, DimensionMeta], dialect: str, explore: str
) -> ModelDef:
    """`model` with the `additional_dimensions` of one of its `meta.explores` (they exist in
    that explore only); each needs its own `sql`, and a broken one is that field's error."""
    ctx = {"file": str(model.schema.file) if model.schema.file else None, "model": model.name}
    dims, errors, issues = dict(model.dimensions), dict(model.field_errors), list(model.issues)
    for name, meta in extra.items():
        column = ColumnSchema(name=name, line=meta.line)
        try:
            if meta.sql is None:
                raise CompileError(
                    f"additional dimension {name!r} of explore {explore!r} has no sql",
                    hint="explore-level additional dimensions need `sql:`",
                    field=name,
                    line=meta.line,
                    **ctx,
                )
            dims[name] = _dim_def(
                name, meta, issues, default_sql=meta.sql, column=column, dialect=dialect,
                ctx=ctx, additional=True,
            )  # fmt: skip
        except MetricQLError as err:
            errors[name] = err
    return replace(model, dimensions=dims, field_errors=errors, issues=tuple(issues))


def _model_metric(name: str, meta: MetricMeta, dialect: str, ctx: dict[str, Any]) -> MetricDef:
    if meta.sql is None:
        raise CompileError(
            f"metric {name!r} in model {ctx['model']!r} is missing a sql definition",
            hint="model-level metrics need `sql:`, e.g. sql: SUM(${TABLE}.amount)",
            field=name,
            line=meta.line,
            **ctx,
        )
    return _metric_def(name, meta, meta.sql, None, dialect, {**ctx, "line": meta.line})


def _column_fields(
    column: ColumnSchema,
    dialect: str,
    ctx: dict[str, Any],
    out: tuple[dict[str, DimDef], dict[str, MetricDef], dict[str, MetricQLError]],
    issues: list[Issue],
    custom: frozenset[str],
) -> None:
    """The column's dimension, additional dimensions and metrics; each broken one is an error."""
    dims, metrics, errors = out
    meta = column.meta.dimension or DimensionMeta()
    if meta.description is None and column.description:  # as dbt/Lightdash: the column's own
        meta = meta.model_copy(update={"description": column.description})
    default_sql = f"${{TABLE}}.{column.name}"
    dim = partial(
        _dim_def, default_sql=default_sql, column=column, dialect=dialect, ctx=ctx, custom=custom
    )
    builds: list[tuple[str, Callable[[], DimDef | MetricDef]]] = [
        (meta.name or column.name, partial(dim, column.name, meta, issues, additional=False)),
        *(
            (name, partial(dim, name, extra, issues, additional=True))
            for name, extra in column.meta.additional_dimensions.items()
        ),
        *(
            (name, partial(_metric_def, name, spec, meta.sql or default_sql,
                           meta.name or column.name, dialect,
                           {**ctx, "line": spec.line or column.line}))
            for name, spec in column.meta.metrics.items()
        ),
    ]  # fmt: skip
    for name, build in builds:
        try:
            built = build()
        except MetricQLError as err:  # left out of its explore, the rest of the model works
            errors[name] = err
            continue
        if isinstance(built, MetricDef):
            metrics[name] = built
        else:
            dims[name] = built


def _dim_def(
    name: str,
    meta: DimensionMeta,
    issues: list[Issue],
    *,
    default_sql: str,
    column: ColumnSchema,
    dialect: str,
    ctx: dict[str, Any],
    additional: bool,
    custom: frozenset[str] = frozenset(),
) -> DimDef:
    # A renamed dimension keeps one consistent name for the field and its interval children.
    name = meta.name or name if not additional else name
    here = {**ctx, "field": name, "line": column.line}
    kind = dimension_type(meta.type, column.data_type, dialect, **here)
    intervals, interval_issues = time_intervals(meta, kind, custom, **here)
    issues.extend(interval_issues)
    return DimDef(
        name=name,
        type=kind,
        label=meta.label or friendly_name(name),
        snippet=parse_snippet(meta.sql or default_sql, dialect, **here),
        meta=meta,
        intervals=intervals,
        is_additional=additional,
        line=column.line,
        custom_intervals=_custom_listed(meta, custom) if kind in _TIME else (),
    )


_TIME = (DimensionType.DATE, DimensionType.TIMESTAMP)


def _custom_listed(meta: DimensionMeta, custom: frozenset[str]) -> tuple[str, ...]:
    """The custom granularities a dimension's `time_intervals` list names, in order."""
    raw = meta.time_intervals
    names = raw if isinstance(raw, (list, tuple)) else ()
    return tuple(dict.fromkeys(str(n) for n in names if str(n) in custom))


def _metric_def(
    name: str,
    meta: MetricMeta,
    default_sql: str,
    dimension: str | None,
    dialect: str,
    ctx: dict[str, Any],
) -> MetricDef:
    here = {**ctx, "field": name}
    try:
        kind = MetricType(meta.type.lower())
    except ValueError:
        raise ProjectError(
            f"metric {name!r} has unknown type {meta.type!r}",
            hint=f"valid types: {', '.join(t.value for t in MetricType)}",
            **here,
        ) from None
    if kind in (MetricType.SUM_DISTINCT, MetricType.AVERAGE_DISTINCT) and not meta.distinct_keys:
        raise CompileError(
            f'metric "{name}" of type "{kind.value}" requires a "distinct_keys" property',
            hint="list the dimensions that identify one value, e.g. distinct_keys: [order_id]",
            **here,
        )
    description = meta.description
    if description is None and dimension is not None:
        description = f"{friendly_name(kind.value)} of {friendly_name(dimension)}"
    return MetricDef(
        name=name,
        type=kind,
        label=meta.label or friendly_name(name),
        description=description,
        snippet=parse_snippet(meta.sql or default_sql, dialect, **here),
        meta=meta,
        distinct_keys=tuple(
            parse_snippet(k if "${" in k else f"${{{k}}}", dialect, **here)
            for k in meta.distinct_keys
        ),
        dimension_reference=dimension,
        line=ctx.get("line"),
    )
