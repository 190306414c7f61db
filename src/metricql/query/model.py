"""Metric queries: Lightdash's MetricQuery JSON (camelCase) or snake_case Python, frozen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from metricql.query.keys import reject_unknown_keys


class FilterOperator(str, Enum):
    """Lightdash filter operators (string values as in the JSON)."""

    IS_NULL = "isNull"
    NOT_NULL = "notNull"
    EQUALS = "equals"
    NOT_EQUALS = "notEquals"
    STARTS_WITH = "startsWith"
    ENDS_WITH = "endsWith"
    INCLUDE = "include"
    DOES_NOT_INCLUDE = "doesNotInclude"
    LESS_THAN = "lessThan"
    LESS_THAN_OR_EQUAL = "lessThanOrEqual"
    GREATER_THAN = "greaterThan"
    GREATER_THAN_OR_EQUAL = "greaterThanOrEqual"
    IN_THE_PAST = "inThePast"
    NOT_IN_THE_PAST = "notInThePast"
    IN_THE_NEXT = "inTheNext"
    IN_THE_CURRENT = "inTheCurrent"
    NOT_IN_THE_CURRENT = "notInTheCurrent"
    IN_BETWEEN = "inBetween"
    NOT_IN_BETWEEN = "notInBetween"
    IN_PERIOD_TO_DATE = "inPeriodToDate"


class UnitOfTime(str, Enum):
    """Units of relative date filters."""

    MILLISECONDS = "milliseconds"
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    QUARTERS = "quarters"
    YEARS = "years"


class _Model(BaseModel):
    """Frozen, accepts camelCase (Lightdash JSON) and snake_case (Python) alike; a key it does
    not know raises UnsupportedError (query/keys.py)."""

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        use_enum_values=False,
        allow_inf_nan=False,  # NaN/Infinity (json.loads accepts them) have no SQL literal
    )

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        reject_unknown_keys(cls, data)
        return data


class FilterTarget(_Model):
    """What a filter rule applies to: a field id (or a YAML `table.field` ref)."""

    field_id: str = Field(validation_alias=AliasChoices("fieldId", "field_id", "fieldRef"))


class FilterSettings(_Model):
    """Settings of date operators."""

    unit_of_time: UnitOfTime | None = None
    completed: bool = False


class FilterRule(_Model):
    """One condition on one field."""

    id: str = ""
    target: FilterTarget
    operator: FilterOperator
    values: tuple[Any, ...] = ()
    settings: FilterSettings | None = None
    disabled: bool = False
    required: bool | None = None
    case_sensitive: bool | None = None
    include_null: bool | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return () if v is None else v


class _Group(_Model):
    """A group of rules and groups; `_items` names the field holding them."""

    _items: ClassVar[str]

    @property
    def children(self) -> tuple[FilterItem, ...]:
        """The rules and groups directly in this group."""
        return getattr(self, self._items)  # type: ignore[no-any-return]

    def rules(self) -> Iterator[FilterRule]:
        """Every rule of the group, depth first."""
        for item in self.children:
            if isinstance(item, FilterRule):
                yield item
            else:
                yield from item.rules()

    def map_rules(self: _G, change: Callable[[FilterRule], FilterRule]) -> _G:
        """A copy of the group with `change` applied to every rule, shape kept."""
        items = tuple(
            change(item) if isinstance(item, FilterRule) else item.map_rules(change)
            for item in self.children
        )
        return self.model_copy(update={self._items: items})


_G = TypeVar("_G", bound=_Group)


class AndGroup(_Group):
    """All items must hold."""

    _items: ClassVar[str] = "and_"
    id: str = ""
    and_: tuple[FilterItem, ...] = Field(validation_alias=AliasChoices("and", "and_"))


class OrGroup(_Group):
    """At least one item must hold."""

    _items: ClassVar[str] = "or_"
    id: str = ""
    or_: tuple[FilterItem, ...] = Field(validation_alias=AliasChoices("or", "or_"))


FilterGroup = AndGroup | OrGroup


def rules(group: FilterGroup | None) -> Iterator[FilterRule]:
    """Every rule of a group that may be absent, depth first."""
    return group.rules() if group is not None else iter(())


def _item_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "and" in value or "and_" in value:
            return "and"
        if "or" in value or "or_" in value:
            return "or"
        return "rule"
    if isinstance(value, AndGroup):
        return "and"
    return "or" if isinstance(value, OrGroup) else "rule"


FilterItem = Annotated[
    Annotated[FilterRule, Tag("rule")]
    | Annotated[AndGroup, Tag("and")]
    | Annotated[OrGroup, Tag("or")],
    Discriminator(_item_kind),
]
GroupItem = Annotated[
    Annotated[AndGroup, Tag("and")] | Annotated[OrGroup, Tag("or")],
    Discriminator(_item_kind),
]
AndGroup.model_rebuild()
OrGroup.model_rebuild()


class Filters(_Model):
    """Filter groups by target: dimensions (WHERE), metrics, table calculations."""

    dimensions: GroupItem | None = None
    metrics: GroupItem | None = None
    table_calculations: GroupItem | None = None


class SortField(_Model):
    """One ORDER BY item."""

    field_id: str
    descending: bool = False
    nulls_first: bool | None = None


class CustomBinRange(_Model):
    """One range of a `custom_range` bin."""

    from_: float | None = Field(default=None, validation_alias=AliasChoices("from", "from_"))
    to: float | None = None


class CustomBinDimension(_Model):
    """A numeric dimension grouped into bins."""

    id: str
    name: str
    table: str
    type: Literal["bin"] = "bin"
    dimension_id: str
    bin_type: Literal["fixed_number", "fixed_width", "custom_range"]
    bin_number: int | None = None
    bin_width: float | None = None
    custom_range: tuple[CustomBinRange, ...] | None = None


class CustomSqlDimension(_Model):
    """A dimension defined by a SQL snippet with `${table.field}` references."""

    id: str
    name: str
    table: str
    type: Literal["sql"] = "sql"
    sql: str
    dimension_type: Literal["string", "number", "timestamp", "date", "boolean"] = "string"


CustomDimension = Annotated[CustomBinDimension | CustomSqlDimension, Field(discriminator="type")]


class AdditionalMetric(_Model):
    """An ad-hoc metric defined in the query."""

    table: str
    name: str
    type: str
    sql: str
    label: str | None = None
    description: str | None = None
    hidden: bool = False
    round: int | None = None
    format: str | None = None
    filters: tuple[FilterRule, ...] = ()
    base_dimension_name: str | None = None
    percentile: float | None = None
    distinct_keys: tuple[str, ...] | None = None
    # Period-over-period metrics (Lightdash's generationType: periodOverPeriod)
    generation_type: str | None = None
    base_metric_id: str | None = None
    time_dimension_id: str | None = None
    granularity: str | None = None
    period_offset: int | None = None


class OrderByItem(_Model):
    """Order of a table-calculation template."""

    field_id: str
    order: Literal["asc", "desc"] | None = None


class FrameBoundary(_Model):
    """A window frame boundary."""

    type: Literal[
        "unbounded_preceding", "preceding", "current_row", "following", "unbounded_following"
    ]
    offset: int | None = None


class WindowFrame(_Model):
    """A window frame of a window_function template."""

    frame_type: Literal["rows", "range"] = "rows"
    start: FrameBoundary | None = None
    end: FrameBoundary


class TableCalculationTemplate(_Model):
    """A table calculation built from a template instead of SQL."""

    type: Literal[
        "percent_change_from_previous",
        "percent_of_previous_value",
        "percent_of_column_total",
        "rank_in_column",
        "running_total",
        "difference_from_previous",
        "window_function",
    ]
    field_id: str | None = None
    order_by: tuple[OrderByItem, ...] = ()
    partition_by: tuple[str, ...] = ()
    window_function: (
        Literal[
            "row_number", "percent_rank", "cume_dist", "rank", "sum", "avg", "count", "min", "max"
        ]
        | None
    ) = None
    frame: WindowFrame | None = None


class TableCalculation(_Model):
    """A calculation over the query's result rows; its output column id is `name`."""

    name: str
    display_name: str = ""
    sql: str | None = None
    template: TableCalculationTemplate | None = None
    formula: str | None = None
    type: Literal["number", "string", "date", "timestamp", "boolean"] | None = None
    format: dict[str, Any] | None = None
    index: int | None = None

    @model_validator(mode="after")
    def _exactly_one_definition(self) -> TableCalculation:
        given = [k for k in ("sql", "template", "formula") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"table calculation {self.name!r} needs exactly one of sql, template, formula "
                f"(got {', '.join(given) or 'none'})"
            )
        return self


class DateZoom(_Model):
    """Re-bucket the chart's time axis: a grain ('Month' …) and, optionally, which dimension."""

    granularity: str
    x_axis_field_id: str | None = None


class PivotColumn(_Model):
    """A column of a pivot by reference (a selected field id); index columns may carry a type."""

    reference: str
    type: str | None = None  # Lightdash's index type ('category', 'time'): display only


class PivotValue(_Model):
    """A value column of a pivot: a selected field id and how its cells are aggregated."""

    reference: str
    aggregation: Literal["sum", "count", "avg", "min", "max", "any"] = "sum"


class PivotSort(_Model):
    """One sort of a pivot: an index, group-by or value reference."""

    reference: str
    direction: Literal["ASC", "DESC"] = "ASC"


class PivotConfiguration(_Model):
    """Lightdash's PivotConfiguration: index rows x group-by columns, values aggregated."""

    index_column: tuple[PivotColumn, ...] = ()
    values_columns: tuple[PivotValue, ...]
    group_by_columns: tuple[PivotColumn, ...] = ()
    sort_by: tuple[PivotSort, ...] = ()
    metrics_as_rows: bool = False
    column_limit: int | None = Field(default=None, ge=1)  # metricql: below Lightdash's 100
    row_totals: bool = False  # each index row's total over every column
    column_totals: bool = False  # each column's total over every row, and the grand total
    subtotals: bool = False  # totals over the last index column, and over the last group-by

    @field_validator("index_column", "group_by_columns", "sort_by", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return () if v is None else (v,) if isinstance(v, (dict, BaseModel)) else v


class MetricQuery(_Model):
    """What to compute: an explore, its fields, filters, sorts, limit and extras."""

    explore_name: str = Field(
        validation_alias=AliasChoices("exploreName", "explore_name", "explore")
    )
    dimensions: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    filters: Filters = Filters()
    sorts: tuple[SortField, ...] = ()
    limit: int | None = Field(default=500, ge=0)
    table_calculations: tuple[TableCalculation, ...] = ()
    additional_metrics: tuple[AdditionalMetric, ...] = ()
    custom_dimensions: tuple[CustomDimension, ...] = ()
    timezone: str | None = None
    date_zoom: DateZoom | None = None
    pivot_dimensions: tuple[str, ...] | None = None
    pivot_configuration: PivotConfiguration | None = None
    parameters: dict[str, Any] | None = None  # Lightdash parameter values by name

    @field_validator("filters", mode="before")
    @classmethod
    def _none_filters(cls, v: Any) -> Any:
        return {} if v is None else v

    @field_validator("limit", mode="before")
    @classmethod
    def _limit_not_bool(cls, v: Any) -> Any:
        if isinstance(v, bool):  # JSON `true` is not the number 1
            raise ValueError("limit must be a whole number, not true/false")
        return v
