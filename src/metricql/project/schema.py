"""Pydantic models of what users write in dbt YAML: models, columns and Lightdash `meta`.

Unknown keys are kept (`extra="allow"`) so newer Lightdash options never break loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from metricql.errors import Issue, MetricQLError
from metricql.project.profile import ProfileTarget

_FIELD_SETS: dict[frozenset[str], set[str]] = {}
_FIELD_SETS_KEPT = 65_536  # distinct sets shared (extra keys are the user's: bounded)


class _Meta(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    def model_post_init(self, context: Any, /) -> None:
        """Share one set of set-field names per distinct set: pydantic keeps one per instance
        (a third of a parsed project's memory, ~380 MiB at 10,000 models). Safe because every
        schema model is frozen: pydantic only adds to that set on assignment, and copies it
        for `model_copy`."""
        names = self.__pydantic_fields_set__
        shared = _FIELD_SETS.get(frozenset(names))
        if shared is None and len(_FIELD_SETS) < _FIELD_SETS_KEPT:
            shared = _FIELD_SETS.setdefault(frozenset(names), names)
        if shared is not None:
            object.__setattr__(self, "__pydantic_fields_set__", shared)


def _as_tuple(value: Any) -> Any:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return value


def _with_line(value: Any) -> Any:
    """A YAML mapping's own line kept as `line` (where a broken field's error points)."""
    line = getattr(value, "line", None)
    if isinstance(value, dict) and isinstance(line, int) and "line" not in value:
        return {**value, "line": line}
    return value


def _attribute_map(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {
            k: (tuple(map(str, v)) if isinstance(v, list) else (str(v),)) for k, v in value.items()
        }
    return value


class DimensionMeta(_Meta):
    """`meta.dimension` of a column, or one entry of `additional_dimensions`."""

    type: str | None = None
    convert_timezone: bool | None = None  # false: never bucketed in the query's timezone
    name: str | None = None
    label: str | None = None
    description: str | None = None
    sql: str | None = None
    time_intervals: str | bool | tuple[str, ...] | None = None
    hidden: bool = False
    format: str | None = None
    round: int | None = None
    group_label: str | None = None
    groups: tuple[str, ...] = ()
    case_sensitive: bool | None = None
    required_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    any_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    line: int | None = None  # of the YAML mapping; not a key users write

    _tuples = field_validator("groups", mode="before")(_as_tuple)
    _attrs = field_validator("required_attributes", "any_attributes", mode="before")(_attribute_map)
    _line = model_validator(mode="before")(_with_line)

    @field_validator("sql", "label", "description", "format", mode="before")
    @classmethod
    def _scalar_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class MetricMeta(_Meta):
    """One metric under `columns[].meta.metrics` or model `meta.metrics`."""

    type: str
    sql: str | None = None
    label: str | None = None
    description: str | None = None
    hidden: bool = False
    format: str | None = None
    round: int | None = None
    group_label: str | None = None
    groups: tuple[str, ...] = ()
    filters: tuple[dict[str, Any], ...] = ()
    percentile: float | None = None
    distinct_keys: tuple[str, ...] = ()
    show_underlying_values: tuple[str, ...] = ()
    required_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    any_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    line: int | None = None  # of the YAML mapping; not a key users write

    _tuples = field_validator(
        "groups", "distinct_keys", "show_underlying_values", "filters", mode="before"
    )(_as_tuple)
    _attrs = field_validator("required_attributes", "any_attributes", mode="before")(_attribute_map)
    _line = model_validator(mode="before")(_with_line)

    @field_validator("sql", mode="before")
    @classmethod
    def _scalar_sql(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class JoinMeta(_Meta):
    """One entry of model `meta.joins`."""

    join: str
    sql_on: str
    type: Literal["left", "inner", "full", "right"] = "left"
    alias: str | None = None
    label: str | None = None
    description: str | None = None
    fields: tuple[str, ...] | None = None
    hidden: bool = False
    always: bool = False
    relationship: Literal["one-to-one", "one-to-many", "many-to-one", "many-to-many"] | None = None


class OptionsFromDimension(_Meta):
    """`options_from_dimension` of a parameter: the dimension whose values are the options."""

    model: str
    dimension: str


class ParameterSchema(_Meta):
    """One Lightdash parameter (lightdash.config.yml `parameters:` or model `meta.parameters`)."""

    label: str | None = None
    description: str | None = None
    type: Literal["string", "number", "date"] = "string"
    options: tuple[Any, ...] = ()
    default: Any = None
    multiple: bool = False
    allow_custom_values: bool = False
    options_from_dimension: OptionsFromDimension | None = None

    _tuples = field_validator("options", mode="before")(_as_tuple)


class ExploreMeta(_Meta):
    """One additional explore under model `meta.explores`."""

    label: str | None = None
    description: str | None = None
    group_label: str | None = None
    groups: tuple[str, ...] = ()
    joins: tuple[JoinMeta, ...] | None = None
    case_sensitive: bool | None = None
    sql_filter: str | None = None
    sql_where: str | None = None
    required_filters: tuple[dict[str, Any], ...] | None = None
    default_filters: tuple[dict[str, Any], ...] | None = None
    required_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    additional_dimensions: dict[str, DimensionMeta] = Field(default_factory=dict)

    _tuples = field_validator("groups", mode="before")(_as_tuple)
    _attrs = field_validator("required_attributes", mode="before")(_attribute_map)


class ModelMeta(_Meta):
    """Model-level Lightdash config (`meta` and `config.meta`, deep-merged)."""

    label: str | None = None
    description: str | None = None
    order_fields_by: str | None = None
    group_label: str | None = None
    groups: tuple[str, ...] = ()
    sql_filter: str | None = None
    row_filter: str | None = None  # metricql: applied to every scan of the table
    sql_where: str | None = None
    sql_from: str | None = None
    primary_key: tuple[str, ...] = ()
    joins: tuple[JoinMeta, ...] = ()
    metrics: dict[str, MetricMeta] = Field(default_factory=dict)
    required_filters: tuple[dict[str, Any], ...] = ()
    default_filters: tuple[dict[str, Any], ...] = ()
    required_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    any_attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    hidden: bool = False
    case_sensitive: bool | None = None
    explores: dict[str, ExploreMeta] = Field(default_factory=dict)
    sets: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, ParameterSchema] = Field(default_factory=dict)

    _tuples = field_validator(
        "groups", "primary_key", "joins", "required_filters", "default_filters", mode="before"
    )(_as_tuple)
    _attrs = field_validator("required_attributes", "any_attributes", mode="before")(_attribute_map)

    @field_validator("metrics", "explores", "sets", "parameters", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v


class ColumnMeta(_Meta):
    """Column-level Lightdash config."""

    dimension: DimensionMeta | None = None
    additional_dimensions: dict[str, DimensionMeta] = Field(default_factory=dict)
    metrics: dict[str, MetricMeta] = Field(default_factory=dict)

    @field_validator("additional_dimensions", "metrics", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v


class ColumnSchema(_Meta):
    """One documented column of a model."""

    name: str
    description: str | None = None
    data_type: str | None = None
    meta: ColumnMeta = ColumnMeta()
    line: int | None = None


class ModelSchema(_Meta):
    """One dbt model (or seed) with its Lightdash config."""

    name: str
    description: str | None = None
    meta: ModelMeta = ModelMeta()
    columns: tuple[ColumnSchema, ...] = ()
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    alias: str | None = None
    relation_name: str | None = None
    relation_origin: str | None = None  # how the relation's name was decided (validate shows it)
    config: dict[str, Any] = Field(default_factory=dict)  # YAML `config:` keys naming the relation
    file: Path | None = None
    line: int | None = None


class CustomGranularitySchema(_Meta):
    """A `custom_granularities` entry of lightdash.config.yml: SQL over `${COLUMN}`."""

    label: str
    sql: str
    type: Literal["date", "timestamp", "string"] = "date"


class ProjectSchema(_Meta):
    """Everything read from a dbt project, before explores are built."""

    model_config = ConfigDict(
        extra="allow", frozen=True, populate_by_name=True, arbitrary_types_allowed=True
    )

    name: str
    root: Path
    models: tuple[ModelSchema, ...]
    target: ProfileTarget | None = None
    seed_paths: tuple[Path, ...] = ()
    seed_column_types: dict[str, dict[str, str]] = Field(default_factory=dict)  # by file stem
    week_start: int | None = None
    source_dialect: str | None = None  # dialect YAML SQL is written in; None: the target's
    custom_granularities: dict[str, CustomGranularitySchema] = Field(default_factory=dict)
    timezone_buckets: bool = False  # truncate timestamps in the query's timezone (opt-in)
    issues: tuple[Issue, ...] = ()  # load warnings
    # Problems of single models (left out) and fields (left out of their model), kept when the
    # load is not strict: explores are built without them, as Lightdash does.
    model_errors: tuple[MetricQLError, ...] = ()
    parameters: dict[str, ParameterSchema] = Field(default_factory=dict)  # lightdash.config.yml

    @property
    def warnings(self) -> tuple[str, ...]:
        """The issues as text (`file:line: message`)."""
        return tuple(str(i) for i in self.issues)
