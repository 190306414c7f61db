"""Additional (ad-hoc) metrics of a query, resolved into Metric values of the explore."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from metricql.compiler.snippets import resolve_snippet
from metricql.errors import QueryError
from metricql.query.model import AdditionalMetric
from metricql.semantic.explore import Explore
from metricql.semantic.fields import AGGREGATE_METRIC_TYPES, Metric, MetricType, friendly_name


def additional_metrics(explore: Explore, definitions: Sequence[AdditionalMetric]) -> dict[str, Metric]:
    """Each additional metric by id `<table>_<name>`; its sql may use ${TABLE} and ${dimension}."""
    out: dict[str, Metric] = {}
    for d in definitions:
        fid = f"{d.table}_{d.name}"
        if d.table not in explore.tables:
            raise QueryError(
                f'Custom metric "{d.name}" references a table that doesn\'t exist "{d.table}"',
                hint=f"tables of explore {explore.name!r}: {', '.join(explore.tables)}",
                field=fid,
            )
        if fid in explore.metrics or fid in explore.dimensions or fid in out:
            raise QueryError(
                f"additional metric {fid!r} clashes with a field of the explore",
                hint="give the additional metric another name", field=fid,
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
                hint="define it in the model's meta.metrics with distinct_keys", field=fid,
            )
        resolved = resolve_snippet(explore, d.sql, table=d.table, owner=fid)
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
            meta=MappingProxyType({"rules": d.filters}) if d.filters else MappingProxyType({}),
        )
    return out
