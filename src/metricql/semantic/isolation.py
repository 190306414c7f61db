"""Error isolation, as Lightdash does it: a broken field is left out of its explore with its
error, a metric over a left-out metric is left out too (saying why), and every error of a build
is reported once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

from metricql.errors import CompileError, MetricQLError
from metricql.semantic.explore import Table
from metricql.semantic.fields import Metric
from metricql.semantic.models import ModelDef
from metricql.semantic.tables import located


def unique_errors(errors: Iterable[MetricQLError]) -> tuple[MetricQLError, ...]:
    """`errors` without repeats (same type and text), in order."""
    return tuple({(type(e), str(e)): e for e in errors}.values())


def project_problems(
    field_errors: Mapping[str, tuple[MetricQLError, ...]],
    broken: Mapping[str, tuple[MetricQLError, ...]],
) -> list[MetricQLError]:
    """Every error of a build, each once: explore errors, then the fields left out (by
    explore, `Explore.errors`; a field broken in several explores once, as the first explore
    reports it)."""
    every = list(unique_errors(e for errors in broken.values() for e in errors))
    fields: dict[tuple[object, ...], MetricQLError] = {}
    for errors in field_errors.values():
        for error in errors:
            w = error.where
            fields.setdefault((type(error), w.file, w.line, w.model, w.field), error)
    return every + list(fields.values())


def without_dangling_metrics(
    tables: dict[str, Table], models: Mapping[str, ModelDef], explore: str
) -> dict[str, Table]:
    """Tables without the metrics that read a metric left out for its own error."""
    present = {m.id for t in tables.values() for m in t.metrics.values()}
    errors = {f: e for t in tables.values() for f, e in t.field_errors.items()}
    dropped: dict[str, dict[str, MetricQLError]] = {}
    changed = True
    while changed:  # a metric over a dropped metric is dropped too, each saying why
        changed = False
        for key, table in tables.items():
            for metric in table.metrics.values():
                missing = sorted(r for r in metric.metric_references if r not in present)
                if metric.id in present and missing:
                    present.discard(metric.id)
                    error = _dangling(metric, missing[0], errors.get(missing[0]), explore)
                    model = models[key]
                    line = model.metrics[metric.name].line if metric.name in model.metrics else None
                    errors[metric.id] = located(error, model, metric.name, line)
                    dropped.setdefault(key, {})[metric.id] = errors[metric.id]
                    changed = True
    for key, new in dropped.items():
        table = tables[key]
        tables[key] = replace(
            table,
            metrics=MappingProxyType({n: m for n, m in table.metrics.items() if m.id in present}),
            field_errors=MappingProxyType({**table.field_errors, **new}),
        )
    return tables


def _dangling(metric: Metric, ref: str, cause: MetricQLError | None, explore: str) -> MetricQLError:
    why = f"which has its own error: {cause.message}" if cause else "which is not in the explore"
    return CompileError(
        f'metric {metric.name} in explore "{explore}" references metric {ref}, {why}',
        hint=f"fix {ref} first",
        depends_on=ref,
    )
