"""Resolve a query's ids against its explore: fields, custom and additional fields, required
filters and sorts. Unknown or misused ids are named errors with a suggestion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from metricql.compiler.features.additional_metrics import QueryMetrics, additional_metrics
from metricql.compiler.features.custom_dimensions import CustomDim, custom_dimensions
from metricql.errors import QueryError, UnknownFieldError, UnsupportedError, did_you_mean
from metricql.query.model import FilterRule, MetricQuery, SortField, rules
from metricql.semantic.explore import Explore
from metricql.semantic.fields import Dimension, DimensionType, Metric


@dataclass(frozen=True, slots=True)
class QueryFields:
    """The fields a query selects and filters, resolved on its explore."""

    dimensions: tuple[Dimension, ...]
    custom: tuple[CustomDim, ...]  # selected custom dimensions, bins first
    all_custom: Mapping[str, CustomDim]  # every custom dimension the query defines
    metrics: tuple[Metric, ...]  # selected, post-calculation ones included
    filter_only: tuple[Metric, ...]  # filtered but not selected
    post_inputs: tuple[Metric, ...]  # read by post-calculation metrics, not otherwise computed
    additional: QueryMetrics

    @property
    def post(self) -> tuple[Metric, ...]:
        """Selected post-calculation metrics (windows over the aggregated metrics)."""
        return tuple(m for m in self.metrics if m.is_post_calculation)

    @property
    def aggregated(self) -> tuple[Metric, ...]:
        """Metrics the GROUP BY computes: selected, filter-only and post-calculation inputs."""
        selected = tuple(m for m in self.metrics if not m.is_post_calculation)
        return selected + self.filter_only + self.post_inputs

    @property
    def output_ids(self) -> list[str]:
        """Result columns before table calculations, in select order."""
        ids = [d.id for d in self.dimensions] + [c.id for c in self.custom]
        return ids + [m.id for m in self.metrics]


def query_fields(explore: Explore, query: MetricQuery) -> QueryFields:
    """Every field `query` selects or filters, looked up once (errors name the field)."""
    reject_unsupported(query)
    if not query.dimensions and not query.metrics:
        raise QueryError(
            f"the query on explore {explore.name!r} selects no dimension and no metric",
            hint="select at least one dimension or metric",
            explore=explore.name,
        )
    custom = custom_dimensions(explore, query.custom_dimensions)
    additional = additional_metrics(explore, query.additional_metrics)
    lookup = _Lookup(explore, custom, additional.metrics)
    dims: list[Dimension] = []
    chosen: list[CustomDim] = []
    for fid in unique(query.dimensions):
        if fid in custom:
            chosen.append(custom[fid])
        else:
            dims.append(lookup.dimension(fid, "dimension"))
    chosen.sort(key=lambda c: not c.is_bin)  # bins before SQL dimensions, as Lightdash orders
    metrics = tuple(lookup.metric(fid, "metric") for fid in unique(query.metrics))
    selected = {m.id for m in metrics}
    filter_only = tuple(
        lookup.metric(fid, "metric filter")
        for fid in unique(r.target.field_id for r in rules(query.filters.metrics))
        if fid not in selected
    )
    for rule in rules(query.filters.dimensions):
        lookup.filter_dimension(rule.target.field_id)
    if any(m.is_post_calculation for m in filter_only):
        raise QueryError(
            "post-calculation metrics cannot be filtered unless selected",
            hint="select the metric as well",
        )
    aggregated = selected | {m.id for m in filter_only}
    post = [m for m in metrics if m.is_post_calculation]
    inputs = unique(r for m in post for r in sorted(m.metric_references))
    post_inputs = tuple(explore.metrics[r] for r in inputs if r not in aggregated)
    return QueryFields(
        tuple(dims), tuple(chosen), custom, metrics, filter_only, post_inputs, additional
    )


def required_filters(explore: Explore, query: MetricQuery) -> tuple[FilterRule, ...]:
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


def checked_limit(limit: int | None, max_limit: int | None) -> int | None:
    """The query's limit; a QueryError when it exceeds the cap."""
    if max_limit is not None and limit is not None and limit > max_limit:
        raise QueryError(
            f"query limit {limit} exceeds the maximum of {max_limit}",
            hint=f"use a limit of at most {max_limit}",
        )
    return limit


def query_sorts(
    query: MetricQuery,
    dimensions: Sequence[Dimension],
    metrics: Sequence[Metric],
    output_ids: Sequence[str],
) -> tuple[SortField, ...]:
    """The query's sorts (each of a selected column), else Lightdash's default sort."""
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


def unique(ids: Iterable[str]) -> list[str]:
    """`ids` without repeats, in first-seen order."""
    return list(dict.fromkeys(ids))


def reject_unsupported(query: MetricQuery) -> None:
    """UnsupportedError for query features metricql parses but does not compile."""
    features = {
        "pivotDimensions": query.pivot_dimensions,
    }
    for name, value in features.items():
        if value:
            raise UnsupportedError(
                f"{name} are not supported yet",
                hint=f"remove {name} from the query",
                feature=name,
            )


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


def _dimension(explore: Explore, fid: str, role: str) -> Dimension:
    dim = explore.dimensions.get(fid)
    if dim is None:
        raise _unknown(explore, fid, role, "dimension", explore.dimensions, explore.metrics)
    return dim


def _metric(explore: Explore, fid: str, role: str) -> Metric:
    metric = explore.metrics.get(fid)
    if metric is None:
        raise _unknown(explore, fid, role, "metric", explore.metrics, explore.dimensions)
    return metric


def _unknown(
    explore: Explore,
    fid: str,
    role: str,
    kind: str,
    candidates: Mapping[str, object],
    others: Mapping[str, object],
) -> UnknownFieldError:
    """`fid` is not a `kind` of the explore; says so when it is of the other kind. A field
    left out for its own error raises that error."""
    broken = explore.field_error(fid)
    if broken is not None:
        raise broken
    other = {"dimension": "metric", "metric": "dimension"}[kind]
    hint = did_you_mean(
        fid, candidates, otherwise="run `metricql explores PROJECT` to list the fields"
    )
    return UnknownFieldError(
        f"{role} {fid!r} is not a {kind} of explore {explore.name!r}"
        + (f" (it is a {other})" if fid in others else ""),
        hint=hint,
        explore=explore.name,
        field=fid,
    )
