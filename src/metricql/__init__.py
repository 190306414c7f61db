"""metricql: Lightdash-style semantic models from dbt YAML, compiled to SQL for any warehouse."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from metricql.api import Project, load_explores_json, load_project
from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.compiler.features.explain import Explanation
from metricql.context import UserContext
from metricql.errors import (
    CircularReferenceError,
    CompileError,
    ForbiddenError,
    LimitError,
    MetricQLError,
    MissingDependencyError,
    ProjectError,
    ProjectErrors,
    QueryError,
    QueryTimeoutError,
    ResultConsumedError,
    SqlPolicyError,
    UnknownExploreError,
    UnknownFieldError,
    UnsupportedError,
    WarehouseError,
)
from metricql.limits import Limits, parse_query
from metricql.query.model import (
    AdditionalMetric,
    CustomBinDimension,
    CustomSqlDimension,
    FilterRule,
    Filters,
    MetricQuery,
    SortField,
    TableCalculation,
)
from metricql.results.result import QueryResult
from metricql.semantic.explore import Explore, Join, Table
from metricql.semantic.fields import Dimension, DimensionType, Metric, MetricType, TimeInterval

if TYPE_CHECKING:
    from metricql.catalog import (
        explore_outline,
        explore_summaries,
        explore_summary,
        explore_to_dict,
    )
    from metricql.results.csv import (
        CSV_CELLS_LIMIT,
        CsvOptions,
        CsvSummary,
        csv_row_cap,
        write_csv,
    )
    from metricql.results.lightdash import (
        formatted_value,
        lightdash_raw,
        lightdash_row,
        lightdash_rows,
    )
    from metricql.validate import ContentProblem

__version__ = "0.1.0"

# Imported on first use: what only the server, CSV and catalog need stays out of `import metricql`.
_LAZY = {
    **dict.fromkeys(
        ("explore_outline", "explore_summaries", "explore_summary", "explore_to_dict"),
        "metricql.catalog",
    ),
    **dict.fromkeys(
        ("CSV_CELLS_LIMIT", "CsvOptions", "CsvSummary", "csv_row_cap", "write_csv"),
        "metricql.results.csv",
    ),
    **dict.fromkeys(
        ("formatted_value", "lightdash_raw", "lightdash_row", "lightdash_rows"),
        "metricql.results.lightdash",
    ),
    "ContentProblem": "metricql.validate",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'metricql' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CSV_CELLS_LIMIT",
    "AdditionalMetric",
    "CircularReferenceError",
    "CompileError",
    "CompiledField",
    "CompiledQuery",
    "ContentProblem",
    "CsvOptions",
    "CsvSummary",
    "CustomBinDimension",
    "CustomSqlDimension",
    "Dimension",
    "DimensionType",
    "Explanation",
    "Explore",
    "FilterRule",
    "Filters",
    "ForbiddenError",
    "Join",
    "LimitError",
    "Limits",
    "Metric",
    "MetricQLError",
    "MetricQuery",
    "MetricType",
    "MissingDependencyError",
    "Project",
    "ProjectError",
    "ProjectErrors",
    "QueryError",
    "QueryResult",
    "QueryTimeoutError",
    "ResultConsumedError",
    "SortField",
    "SqlPolicyError",
    "Table",
    "TableCalculation",
    "TimeInterval",
    "UnknownExploreError",
    "UnknownFieldError",
    "UnsupportedError",
    "UserContext",
    "WarehouseError",
    "__version__",
    "csv_row_cap",
    "explore_outline",
    "explore_summaries",
    "explore_summary",
    "explore_to_dict",
    "formatted_value",
    "lightdash_raw",
    "lightdash_row",
    "lightdash_rows",
    "load_explores_json",
    "load_project",
    "parse_query",
    "write_csv",
]
