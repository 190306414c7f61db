"""Plan a metric query: resolve field ids, choose joins, place filters, settle sorts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from metricql.compiler.additional_metrics import additional_metrics
from metricql.compiler.custom_dimensions import CustomDim, custom_dimensions
from metricql.compiler.names import column
from metricql.compiler.table_calculations import Calc, compile_calculations
from metricql.compiler.timeframes import calendar_order
from metricql.errors import QueryError, UnknownFieldError, UnsupportedError, did_you_mean
from metricql.query.model import FilterRule, MetricQuery, SortField, rules
from metricql.semantic.explore import Explore, Join
from metricql.semantic.fields import Dimension, DimensionType, Metric, TimeInterval


@dataclass(frozen=True, slots=True)
class Plan:
    """What one query needs from its explore, before any SQL is assembled."""

    explore: Explore
    dimensions: tuple[Dimension, ...]
    metrics: tuple[Metric, ...]
    filter_only_metrics: tuple[Metric, ...]
    joins: tuple[Join, ...]
    sorts: tuple[SortField, ...]
    limit: int | None
    custom_dimensions: tuple[CustomDim, ...] = ()
    all_custom: Mapping[str, CustomDim] = field(default_factory=dict)
    post_metrics: tuple[Metric, ...] = ()
    hidden_metrics: tuple[Metric, ...] = ()
    calculations: tuple[Calc, ...] = ()
    required_filters: tuple[FilterRule, ...] = ()

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        """Grouping columns in select order: dimensions, then custom dimensions."""
        return tuple(d.id for d in self.dimensions) + tuple(c.id for c in self.custom_dimensions)

    @property
    def aggregated_metrics(self) -> tuple[Metric, ...]:
        """Metrics computed by the GROUP BY: selected, filter-only and post-calc inputs."""
        return (
            tuple(m for m in self.metrics if not m.is_post_calculation)
            + self.filter_only_metrics
            + self.hidden_metrics
        )

    @property
    def selected_ids(self) -> tuple[str, ...]:
        """Output column ids in select order."""
        return (
            self.dimension_ids
            + tuple(m.id for m in self.metrics)
            + tuple(c.name for c in self.calculations)
        )


def plan_query(
    explore: Explore,
    query: MetricQuery,
    *,
    max_limit: int | None = None,
    dialect: str = "duckdb",
    extra_tables: frozenset[str] = frozenset(),
) -> Plan:
    """Resolve every id of `query` against `explore` and choose the joins it needs."""
    _reject_unsupported(query)
    custom = custom_dimensions(explore, query.custom_dimensions)
    additional = additional_metrics(explore, query.additional_metrics)
    lookup = _Lookup(explore, custom, additional)
    dims: list[Dimension] = []
    chosen_custom: list[CustomDim] = []
    for fid in _unique(query.dimensions):
        if fid in custom:
            chosen_custom.append(custom[fid])
        else:
            dims.append(lookup.dimension(fid, "dimension"))
    # Bins before SQL dimensions, as Lightdash orders them.
    chosen_custom.sort(key=lambda c: not c.is_bin)
    metrics = tuple(lookup.metric(fid, "metric") for fid in _unique(query.metrics))
    selected = {m.id for m in metrics}
    filter_metrics = tuple(
        lookup.metric(fid, "metric filter")
        for fid in _unique(r.target.field_id for r in rules(query.filters.metrics))
        if fid not in selected
    )
    for rule in rules(query.filters.dimensions):
        lookup.filter_dimension(rule.target.field_id)
    post = tuple(m for m in metrics if m.is_post_calculation)
    if any(m.is_post_calculation for m in filter_metrics):
        raise QueryError(
            "post-calculation metrics cannot be filtered unless selected",
            hint="select the metric as well",
        )
    aggregated = selected | {m.id for m in filter_metrics}
    post_inputs = _unique(r for m in post for r in sorted(m.metric_references))
    hidden = tuple(explore.metrics[r] for r in post_inputs if r not in aggregated)
    limit = query.limit
    if max_limit is not None and limit is not None and limit > max_limit:
        raise QueryError(
            f"query limit {limit} exceeds the maximum of {max_limit}",
            hint=f"use a limit of at most {max_limit}",
        )
    output_ids = [d.id for d in dims] + [c.id for c in chosen_custom] + [m.id for m in metrics]
    sorts = _sorts(query, dims, metrics, output_ids + [c.name for c in query.table_calculations])
    calc_names = {c.name for c in query.table_calculations}
    order_keys = [
        (sort_key(explore, custom, s.field_id), s.descending)
        for s in sorts
        if s.field_id not in calc_names
    ]
    calcs = compile_calculations(query.table_calculations, output_ids, order_keys, dialect)
    filter_custom = [
        custom[r.target.field_id]
        for r in rules(query.filters.dimensions)
        if r.target.field_id in custom
    ]
    required = _required_filters(explore, query)
    used = _tables(explore, dims, (*metrics, *filter_metrics, *hidden), query)
    for rule in required:
        enforced = explore.dimensions[rule.target.field_id]
        used |= enforced.tables_references or {enforced.table}
    used |= {t for c in (*chosen_custom, *filter_custom) for t in c.tables} | extra_tables
    return Plan(
        explore=explore,
        dimensions=tuple(dims),
        metrics=metrics,
        filter_only_metrics=filter_metrics,
        joins=_joins(explore, used),
        sorts=sorts,
        limit=limit,
        custom_dimensions=tuple(chosen_custom),
        all_custom=custom,
        post_metrics=post,
        hidden_metrics=hidden,
        calculations=tuple(calcs),
        required_filters=required,
    )


def _required_filters(explore: Explore, query: MetricQuery) -> tuple[FilterRule, ...]:
    """Required filters of the base model the query does not already filter itself."""
    filtered = [r.target.field_id for r in rules(query.filters.dimensions)]
    out = []
    for rule in explore.default_filters:
        if not rule.required:
            continue
        fid = rule.target.field_id
        # A filter on any time interval of the same base dimension counts as filtering it.
        if any(
            f == fid or (f.startswith(fid + "_") and _interval_of(explore, f, fid))
            for f in filtered
        ):
            continue
        out.append(rule)
    return tuple(out)


def _interval_of(explore: Explore, child: str, base: str) -> bool:
    dim = explore.dimensions.get(child)
    return dim is not None and f"{dim.table}_{dim.time_interval_base}" == base


@dataclass(frozen=True, slots=True)
class _Lookup:
    explore: Explore
    custom: Mapping[str, CustomDim]
    additional: Mapping[str, Metric]

    def dimension(self, fid: str, role: str) -> Dimension:
        return _dimension(self.explore, fid, role)

    def filter_dimension(self, fid: str) -> None:
        custom = self.custom.get(fid)
        if custom is not None and custom.is_bin:
            raise QueryError(
                f"custom bin dimension {fid!r} cannot be filtered",
                hint="filter its parent dimension instead",
                field=fid,
            )
        if custom is None:
            _dimension(self.explore, fid, "dimension filter")

    def metric(self, fid: str, role: str) -> Metric:
        found = self.additional.get(fid)
        return found if found is not None else _metric(self.explore, fid, role)


_NAME_INTERVALS = (TimeInterval.MONTH_NAME, TimeInterval.DAY_OF_WEEK_NAME)


def sort_key(explore: Explore, custom: Mapping[str, CustomDim], field_id: str) -> exp.Expr:
    """What to ORDER BY for a result column: calendar order for month/day names, bin order for
    bins, else the column itself."""
    dim = explore.dimensions.get(field_id)
    if dim is not None and dim.time_interval in _NAME_INTERVALS:
        order = calendar_order(column(field_id), dim.time_interval, None)
        if isinstance(order, exp.Case):  # NULL (no date) sorts with the NULLs, not before January
            order.set("default", exp.null())
        if order is not None:
            return order
    bin_dim = custom.get(field_id)
    if bin_dim is not None and bin_dim.order is not None:
        return column(bin_dim.order_id)
    return column(field_id)


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _reject_unsupported(query: MetricQuery) -> None:
    features = {
        "pivotDimensions": query.pivot_dimensions,
        "dateZoom": query.date_zoom,
    }
    for name, value in features.items():
        if value:
            raise UnsupportedError(
                f"{name} are not supported yet",
                hint=f"remove {name} from the query",
                feature=name,
            )


def _suggest(field: str, candidates: Iterable[str]) -> str:
    return did_you_mean(
        field, candidates, otherwise="run `metricql explores PROJECT` to list the fields"
    )


def _dimension(explore: Explore, fid: str, role: str) -> Dimension:
    dim = explore.dimensions.get(fid)
    if dim is not None:
        return dim
    kind = " (it is a metric)" if fid in explore.metrics else ""
    raise UnknownFieldError(
        f"{role} {fid!r} is not a dimension of explore {explore.name!r}{kind}",
        hint=_suggest(fid, explore.dimensions),
        explore=explore.name,
        field=fid,
    )


def _metric(explore: Explore, fid: str, role: str) -> Metric:
    metric = explore.metrics.get(fid)
    if metric is not None:
        return metric
    kind = " (it is a dimension)" if fid in explore.dimensions else ""
    raise UnknownFieldError(
        f"{role} {fid!r} is not a metric of explore {explore.name!r}{kind}",
        hint=_suggest(fid, explore.metrics),
        explore=explore.name,
        field=fid,
    )


def metric_closure(explore: Explore, metrics: Iterable[Metric]) -> Iterator[Metric]:
    """Each of `metrics`, followed (depth first) by the metrics it references; each once."""
    seen: set[str] = set()
    stack = list(metrics)[::-1]
    while stack:
        metric = stack.pop()
        if metric.id in seen:
            continue
        seen.add(metric.id)
        yield metric
        stack.extend(explore.metrics[r] for r in sorted(metric.metric_references, reverse=True))


def _tables(
    explore: Explore,
    dimensions: Sequence[Dimension],
    metrics: Sequence[Metric],
    query: MetricQuery,
) -> set[str]:
    used: set[str] = set()
    for dim in dimensions:
        used |= dim.tables_references or {dim.table}
    for metric in metric_closure(explore, metrics):  # additional metrics reference none
        used |= metric.tables_references or {metric.table}
        for rule in metric.filters:  # CASE WHEN on the filtered dimensions, maybe joined
            filtered_by = explore.dimensions[rule.target.field_id]
            used |= filtered_by.tables_references or {filtered_by.table}
    for rule in rules(query.filters.dimensions):
        filtered = explore.dimensions.get(rule.target.field_id)
        if filtered is not None:
            used |= filtered.tables_references or {filtered.table}
    used |= explore.tables[explore.base_table].sql_where_tables
    used |= {j.table for j in explore.joins if j.always}
    return used


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
    return tuple(j for j in explore.joins if j.table in needed)


def _sorts(
    query: MetricQuery,
    dimensions: Sequence[Dimension],
    metrics: Sequence[Metric],
    output_ids: Sequence[str],
) -> tuple[SortField, ...]:
    selected = set(output_ids)
    for sort in query.sorts:
        if sort.field_id not in selected:
            raise QueryError(
                f"cannot sort by {sort.field_id!r}: it is not selected by the query",
                hint="add it to dimensions/metrics or remove the sort",
                field=sort.field_id,
            )
    if query.sorts:
        return query.sorts
    if not dimensions and len(output_ids) == len(metrics):
        return ()
    dated = next(
        (d for d in dimensions if d.type in (DimensionType.DATE, DimensionType.TIMESTAMP)), None
    )
    if dated is not None:
        return (SortField(field_id=dated.id, descending=True),)
    if metrics:
        return (SortField(field_id=metrics[0].id, descending=True),)
    return (SortField(field_id=output_ids[0], descending=False),)
