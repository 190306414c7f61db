"""Keys of a metric query: what metricql reads, ignores on purpose, or rejects.

Lightdash's MetricQuery JSON grows; a key metricql does not implement must never vanish
silently (a period-over-period metric once became a plain SUM that way). Every key a query
model does not declare raises UnsupportedError naming it, unless it only changes how Lightdash
*shows* a result (`PRESENTATION_ONLY`), which is ignored on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from pydantic import AliasChoices, BaseModel

from metricql.errors import UnsupportedError

# Keys that only affect presentation in Lightdash (labels, formats, UI state): ignored.
PRESENTATION_ONLY: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "MetricQuery": frozenset({"metadata", "metricOverrides", "dimensionOverrides"}),
        "AdditionalMetric": frozenset({"compact", "formatOptions", "index", "uuid"}),
        "TableCalculation": frozenset({"uuid"}),
        "FilterTarget": frozenset({"tableName"}),  # the field id already names the table
        "CustomBinDimension": frozenset({"uuid"}),
        "CustomSqlDimension": frozenset({"uuid"}),
    }
)

# Where each query model sits in Lightdash's JSON, for messages.
_PLACES: Mapping[str, str] = MappingProxyType(
    {
        "MetricQuery": "the metric query",
        "AdditionalMetric": "an additional metric",
        "TableCalculation": "a table calculation",
        "TableCalculationTemplate": "a table calculation template",
        "FilterRule": "a filter rule",
        "FilterTarget": "a filter target",
        "FilterSettings": "a filter's settings",
        "Filters": "filters",
        "AndGroup": "a filter group",
        "OrGroup": "a filter group",
        "SortField": "a sort",
        "CustomBinDimension": "a custom bin dimension",
        "CustomSqlDimension": "a custom SQL dimension",
        "DateZoom": "the date zoom",
        "PivotConfiguration": "the pivot configuration",
        "PivotColumn": "a pivot column",
        "PivotValue": "a pivot value column",
        "PivotSort": "a pivot sort",
    }
)


@cache
def accepted_keys(model: type[BaseModel]) -> frozenset[str]:
    """Every key `model` reads or ignores on purpose."""
    return read_keys(model) | PRESENTATION_ONLY.get(model.__name__, frozenset())


@cache
def read_keys(model: type[BaseModel]) -> frozenset[str]:
    """Every key `model` reads: its field names, aliases and alias choices."""
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        keys.add(name)
        if info.alias:
            keys.add(info.alias)
        if isinstance(info.validation_alias, AliasChoices):
            keys.update(c for c in info.validation_alias.choices if isinstance(c, str))
        elif isinstance(info.validation_alias, str):
            keys.add(info.validation_alias)
    return frozenset(keys)


def reject_unknown_keys(model: type[BaseModel], data: Any) -> None:
    """UnsupportedError for the first key of `data` that `model` neither reads nor ignores."""
    if not isinstance(data, Mapping):
        return
    unknown = [k for k in data if k not in accepted_keys(model)]
    if unknown:
        place = _PLACES.get(model.__name__, model.__name__)
        raise UnsupportedError(
            f"{place} has key {unknown[0]!r}, which metricql does not implement",
            hint="remove it; metricql would otherwise answer without its meaning",
            feature=str(unknown[0]),
        )
