"""Fields of an explore: dimensions and metrics, as frozen values holding sqlglot trees."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from sqlglot import exp

from metricql.query.model import FilterRule


class DimensionType(str, Enum):
    """Lightdash dimension types."""

    STRING = "string"
    NUMBER = "number"
    TIMESTAMP = "timestamp"
    DATE = "date"
    BOOLEAN = "boolean"


class MetricType(str, Enum):
    """Lightdash metric types (aggregate, non-aggregate, post-calculation)."""

    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    SUM = "sum"
    SUM_DISTINCT = "sum_distinct"
    AVERAGE = "average"
    AVERAGE_DISTINCT = "average_distinct"
    MIN = "min"
    MAX = "max"
    PERCENTILE = "percentile"
    MEDIAN = "median"
    NUMBER = "number"
    STRING = "string"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"
    PERCENT_OF_PREVIOUS = "percent_of_previous"
    PERCENT_OF_TOTAL = "percent_of_total"
    RUNNING_TOTAL = "running_total"


AGGREGATE_METRIC_TYPES = frozenset(
    {
        MetricType.COUNT,
        MetricType.COUNT_DISTINCT,
        MetricType.SUM,
        MetricType.SUM_DISTINCT,
        MetricType.AVERAGE,
        MetricType.AVERAGE_DISTINCT,
        MetricType.MIN,
        MetricType.MAX,
        MetricType.PERCENTILE,
        MetricType.MEDIAN,
    }
)
NON_AGGREGATE_METRIC_TYPES = frozenset(
    {
        MetricType.NUMBER,
        MetricType.STRING,
        MetricType.DATE,
        MetricType.TIMESTAMP,
        MetricType.BOOLEAN,
    }
)
POST_CALCULATION_METRIC_TYPES = frozenset(
    {MetricType.PERCENT_OF_PREVIOUS, MetricType.PERCENT_OF_TOTAL, MetricType.RUNNING_TOTAL}
)
# Safe across fan-out joins: duplicated rows do not change their value.
INFLATION_PROOF_METRIC_TYPES = frozenset(
    {
        MetricType.COUNT_DISTINCT,
        MetricType.SUM_DISTINCT,
        MetricType.AVERAGE_DISTINCT,
        MetricType.MIN,
        MetricType.MAX,
    }
)


class TimeInterval(str, Enum):
    """Lightdash `TimeFrames`: values equal the names."""

    RAW = "RAW"
    YEAR = "YEAR"
    QUARTER = "QUARTER"
    MONTH = "MONTH"
    WEEK = "WEEK"
    DAY = "DAY"
    HOUR = "HOUR"
    MINUTE = "MINUTE"
    SECOND = "SECOND"
    MILLISECOND = "MILLISECOND"
    DAY_OF_WEEK_INDEX = "DAY_OF_WEEK_INDEX"
    DAY_OF_MONTH_NUM = "DAY_OF_MONTH_NUM"
    DAY_OF_YEAR_NUM = "DAY_OF_YEAR_NUM"
    WEEK_NUM = "WEEK_NUM"
    MONTH_NUM = "MONTH_NUM"
    QUARTER_NUM = "QUARTER_NUM"
    YEAR_NUM = "YEAR_NUM"
    DAY_OF_WEEK_NAME = "DAY_OF_WEEK_NAME"
    MONTH_NAME = "MONTH_NAME"
    QUARTER_NAME = "QUARTER_NAME"
    HOUR_OF_DAY_NUM = "HOUR_OF_DAY_NUM"
    MINUTE_OF_HOUR_NUM = "MINUTE_OF_HOUR_NUM"


DEFAULT_TIMESTAMP_INTERVALS = (
    TimeInterval.RAW,
    TimeInterval.DAY,
    TimeInterval.WEEK,
    TimeInterval.MONTH,
    TimeInterval.QUARTER,
    TimeInterval.YEAR,
)
DEFAULT_DATE_INTERVALS = (
    TimeInterval.DAY,
    TimeInterval.WEEK,
    TimeInterval.MONTH,
    TimeInterval.QUARTER,
    TimeInterval.YEAR,
)

# Type and label of each interval child; None = the base dimension's type.
INTERVAL_TYPES: Mapping[TimeInterval, DimensionType | None] = MappingProxyType(
    {
        TimeInterval.RAW: None,
        TimeInterval.MILLISECOND: DimensionType.TIMESTAMP,
        TimeInterval.SECOND: DimensionType.TIMESTAMP,
        TimeInterval.MINUTE: DimensionType.TIMESTAMP,
        TimeInterval.HOUR: DimensionType.TIMESTAMP,
        TimeInterval.DAY: DimensionType.DATE,
        TimeInterval.WEEK: DimensionType.DATE,
        TimeInterval.MONTH: DimensionType.DATE,
        TimeInterval.QUARTER: DimensionType.DATE,
        TimeInterval.YEAR: DimensionType.DATE,
        TimeInterval.DAY_OF_WEEK_INDEX: DimensionType.NUMBER,
        TimeInterval.DAY_OF_MONTH_NUM: DimensionType.NUMBER,
        TimeInterval.DAY_OF_YEAR_NUM: DimensionType.NUMBER,
        TimeInterval.WEEK_NUM: DimensionType.NUMBER,
        TimeInterval.MONTH_NUM: DimensionType.NUMBER,
        TimeInterval.QUARTER_NUM: DimensionType.NUMBER,
        TimeInterval.YEAR_NUM: DimensionType.NUMBER,
        TimeInterval.HOUR_OF_DAY_NUM: DimensionType.NUMBER,
        TimeInterval.MINUTE_OF_HOUR_NUM: DimensionType.NUMBER,
        TimeInterval.DAY_OF_WEEK_NAME: DimensionType.STRING,
        TimeInterval.MONTH_NAME: DimensionType.STRING,
        TimeInterval.QUARTER_NAME: DimensionType.STRING,
    }
)
INTERVAL_LABELS: Mapping[TimeInterval, str] = MappingProxyType(
    {
        TimeInterval.RAW: "Raw",
        TimeInterval.YEAR: "Year",
        TimeInterval.QUARTER: "Quarter",
        TimeInterval.MONTH: "Month",
        TimeInterval.WEEK: "Week",
        TimeInterval.DAY: "Day",
        TimeInterval.HOUR: "Hour",
        TimeInterval.MINUTE: "Minute",
        TimeInterval.SECOND: "Second",
        TimeInterval.MILLISECOND: "Millisecond",
        TimeInterval.DAY_OF_WEEK_INDEX: "Day of the week (index)",
        TimeInterval.DAY_OF_MONTH_NUM: "Day of the month (number)",
        TimeInterval.DAY_OF_YEAR_NUM: "Day of the year (number)",
        TimeInterval.WEEK_NUM: "Week (number)",
        TimeInterval.MONTH_NUM: "Month (number)",
        TimeInterval.QUARTER_NUM: "Quarter (number)",
        TimeInterval.YEAR_NUM: "Year (number)",
        TimeInterval.DAY_OF_WEEK_NAME: "Day of the week (name)",
        TimeInterval.MONTH_NAME: "Month (name)",
        TimeInterval.QUARTER_NAME: "Quarter (name)",
        TimeInterval.HOUR_OF_DAY_NUM: "Hour of day (number)",
        TimeInterval.MINUTE_OF_HOUR_NUM: "Minute of hour (number)",
    }
)


class FieldKind(str, Enum):
    """What produced an output column."""

    DIMENSION = "dimension"
    METRIC = "metric"
    CUSTOM_DIMENSION = "custom_dimension"
    TABLE_CALCULATION = "table_calculation"
    PIVOT = "pivot"  # a pivot's aggregated cell or its row/column position


_WORDS = re.compile(r"[A-Z][a-z]+|[a-z]+|[0-9]+[a-z]+|[0-9]+|[A-Z]+")


def friendly_name(text: str) -> str:
    """Lightdash's friendlyName: `customer_id` → `Customer id`, `myFieldId` → `My field id`."""
    words = " ".join(_WORDS.findall(text)).lower()
    return words[:1].upper() + words[1:]


def field_id(table: str, name: str) -> str:
    """The id of field `name` of table `table`: `<table>_<name>`."""
    return f"{table}_{name}"


class BadReference(ValueError):
    """A reference that cannot be resolved; callers turn it into their own error."""

    def __init__(self, ref: str, why: str) -> None:
        super().__init__(why)
        self.ref = ref
        self.why = why


def parse_field_ref(ref: str, default_table: str) -> tuple[str, str]:
    """`field` or `table.field` → (table, field name); BadReference for any other shape."""
    table, dot, name = ref.rpartition(".")
    if not dot:
        table = default_table
    if not name or not table or "." in table:
        raise BadReference(ref, "a reference is ${field} or ${table.field}")
    return table, name


@dataclass(frozen=True, slots=True)
class Dimension:
    """A dimension of a table inside an explore; `sql` is its tree with references resolved."""

    name: str
    table: str
    type: DimensionType
    label: str
    table_label: str
    sql: exp.Expr
    description: str | None = None
    hidden: bool = False
    time_interval: TimeInterval | None = None
    time_interval_base: str | None = None
    is_interval_base: bool = False
    is_additional: bool = False
    tables_references: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()
    format: str | None = None
    round: int | None = None
    case_sensitive: bool | None = None
    required_attributes: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # `any_attributes`, own and inherited: each group needs one attribute with a listed value
    any_attributes: tuple[Mapping[str, tuple[str, ...]], ...] = ()
    index: int = 0
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def id(self) -> str:
        """Field id `<table>_<name>`."""
        return field_id(self.table, self.name)


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric of a table inside an explore.

    `sql` is the *inner* tree (dimension references resolved; for non-aggregate metrics,
    references to other metrics appear as `MetricRef` nodes). Aggregation, metric filters and
    per-dialect functions are applied by the compiler.
    """

    name: str
    table: str
    type: MetricType
    label: str
    table_label: str
    sql: exp.Expr
    description: str | None = None
    hidden: bool = False
    filters: tuple[FilterRule, ...] = ()  # targets are dimension field ids
    percentile: float | None = None
    distinct_keys: tuple[exp.Expr, ...] = ()
    dimension_reference: str | None = None
    tables_references: frozenset[str] = frozenset()
    metric_references: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()
    format: str | None = None
    round: int | None = None
    required_attributes: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # `any_attributes`, own and inherited: each group needs one attribute with a listed value
    any_attributes: tuple[Mapping[str, tuple[str, ...]], ...] = ()
    index: int = 0
    show_underlying_values: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def id(self) -> str:
        """Field id `<table>_<name>`."""
        return field_id(self.table, self.name)

    @property
    def is_aggregate(self) -> bool:
        """True for count, sum, average … (types that aggregate rows themselves)."""
        return self.type in AGGREGATE_METRIC_TYPES

    @property
    def is_post_calculation(self) -> bool:
        """True for percent_of_total, percent_of_previous, running_total."""
        return self.type in POST_CALCULATION_METRIC_TYPES


Field = Dimension | Metric
