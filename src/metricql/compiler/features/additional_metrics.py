"""Additional (ad-hoc) metrics of a query, resolved into Metric values of the explore."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from metricql.compiler.features.snippets import resolve_snippet
from metricql.errors import QueryError, UnknownFieldError, UnsupportedError
from metricql.query.model import AdditionalMetric, FilterRule, FilterTarget
from metricql.semantic.explore import Explore
from metricql.semantic.fields import (
    AGGREGATE_METRIC_TYPES,
    BadReference,
    Metric,
    MetricType,
    field_id,
    friendly_name,
    parse_field_ref,
)


def _rule_on_dimension(explore: Explore, table: str, owner: str, rule: FilterRule) -> FilterRule:
    """A metric filter whose target is `table.field`, `field` or a field id → the dimension id."""
    ref = rule.target.field_id
    candidates = [ref]  # a field id as it is, else `field` / `table.field`
    with contextlib.suppress(BadReference):
        candidates.append(field_id(*parse_field_ref(ref, table)))
    fid = next((c for c in candidates if c in explore.dimensions), None)
    if fid is None:
        raise UnknownFieldError(
            f"filter of additional metric {owner!r} references {ref!r}, which is not a dimension",
            hint="metric filters target a dimension as table.field",
            field=owner,
        )
    return rule.model_copy(update={"target": FilterTarget(field_id=fid)})


@dataclass(frozen=True, slots=True)
class QueryMetrics:
    """A query's additional metrics by id, and the explore dimensions each one's SQL reads."""

    metrics: Mapping[str, Metric]
    reads: Mapping[str, frozenset[str]]


def additional_metrics(explore: Explore, definitions: Sequence[AdditionalMetric]) -> QueryMetrics:
    """Each additional metric by id `<table>_<name>`; its sql may use ${TABLE} and ${dimension}."""
    out: dict[str, Metric] = {}
    reads: dict[str, frozenset[str]] = {}
    for d in definitions:
        fid = f"{d.table}_{d.name}"
        if d.generation_type is not None:
            raise UnsupportedError(
                f"additional metric {fid!r} has generationType {d.generation_type!r}, which "
                "metricql does not implement",
                hint="remove the metric; metricql would otherwise answer with its base metric",
                field=fid,
                feature=d.generation_type,
            )
        if d.table not in explore.tables:
            raise QueryError(
                f'Custom metric "{d.name}" references a table that doesn\'t exist "{d.table}"',
                hint=f"tables of explore {explore.name!r}: {', '.join(explore.tables)}",
                field=fid,
            )
        if fid in explore.metrics or fid in explore.dimensions or fid in out:
            raise QueryError(
                f"additional metric {fid!r} clashes with a field of the explore",
                hint="give the additional metric another name",
                field=fid,
            )
        try:
            kind = MetricType(d.type.lower())
        except ValueError:
            kind = None
        if kind is None or kind not in AGGREGATE_METRIC_TYPES:
            raise QueryError(
                f"additional metric {fid!r} has type {d.type!r}; only aggregate types are allowed",
                hint="use count, count_distinct, sum, average, min, max, percentile or median",
                field=fid,
            )
        if kind in (MetricType.SUM_DISTINCT, MetricType.AVERAGE_DISTINCT):
            raise QueryError(
                f"additional metric {fid!r}: {kind.value} is only available in YAML metrics",
                hint="define it in the model's meta.metrics with distinct_keys",
                field=fid,
            )
        resolved = resolve_snippet(explore, d.sql, table=d.table, owner=fid)
        base = explore.dimensions.get(f"{d.table}_{d.base_dimension_name}")
        # a metric made on a dimension reads it, even through its raw `${TABLE}.column`
        reads[fid] = resolved.reads | ({base.id} if base is not None else set())
        table = explore.tables[d.table]
        out[fid] = Metric(
            name=d.name,
            table=d.table,
            type=kind,
            label=d.label or friendly_name(d.name),
            table_label=table.label,
            sql=resolved.tree,
            description=d.description,
            hidden=d.hidden,
            percentile=d.percentile if kind is MetricType.PERCENTILE else None,
            tables_references=resolved.tables or frozenset({d.table}),
            format=d.format,
            round=d.round,
            filters=tuple(_rule_on_dimension(explore, d.table, fid, r) for r in d.filters),
        )
    return QueryMetrics(MappingProxyType(out), MappingProxyType(reads))
