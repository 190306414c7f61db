"""metricql: Lightdash-style semantic models from dbt YAML, compiled to SQL for any warehouse."""

from metricql.api import Project, load_project
from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.compiler.features.explain import Explanation
from metricql.context import UserContext
from metricql.errors import (
    CircularReferenceError,
    CompileError,
    ForbiddenError,
    MetricQLError,
    MissingDependencyError,
    ProjectError,
    ProjectErrors,
    QueryError,
    QueryTimeoutError,
    ResultConsumedError,
    UnknownExploreError,
    UnknownFieldError,
    UnsupportedError,
    WarehouseError,
)
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

__version__ = "0.1.0"

__all__ = [
    "AdditionalMetric",
    "CircularReferenceError",
    "CompileError",
    "CompiledField",
    "CompiledQuery",
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
    "Table",
    "TableCalculation",
    "TimeInterval",
    "UnknownExploreError",
    "UnknownFieldError",
    "UnsupportedError",
    "UserContext",
    "WarehouseError",
    "__version__",
    "load_project",
]
