"""Lightdash's request bodies and response envelopes.

Success: `{"status": "ok", "results": …}`. Error:
`{"status": "error", "error": {"name", "statusCode", "message", "data"}}` with Lightdash's
error names: NotExistsError 404, ParameterError 400, ForbiddenError 403, AuthorizationError
401 (no or a bad token), PayloadTooLargeError 413, TooManyRequestsError 429, TimeoutError
504, WarehouseQueryError 500 and UnexpectedServerError 500. A warehouse error shows only a
public message: the database's own text may name internals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from metricql import (
    CompiledField,
    CompileError,
    ForbiddenError,
    MetricQLError,
    MetricQuery,
    ProjectError,
    QueryError,
    UnknownExploreError,
    UnknownFieldError,
    UnsupportedError,
    WarehouseError,
)
from metricql.limits import DEFAULT_LIMITS, json_depth

__all__ = [
    "ApiError",
    "CsvRequest",
    "error_body",
    "items_map",
    "metric_query",
    "ok",
]

# metricql error → (Lightdash error name, HTTP status); the most specific class wins.
ERROR_NAMES: Mapping[type[MetricQLError], tuple[str, int]] = {
    UnknownExploreError: ("NotExistsError", 404),
    UnknownFieldError: ("FieldReferenceError", 400),
    ForbiddenError: ("ForbiddenError", 403),
    UnsupportedError: ("NotSupportedError", 400),
    QueryError: ("ParameterError", 400),
    CompileError: ("CompileError", 400),
    ProjectError: ("ParameterError", 400),
    WarehouseError: ("WarehouseQueryError", 500),
    MetricQLError: ("UnexpectedServerError", 500),
}
WAREHOUSE_MESSAGE = "The warehouse could not run the query"


class ApiError(Exception):
    """An error the server itself raises, already in Lightdash's terms."""

    def __init__(self, name: str, status: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.name, self.status, self.message, self.data = name, status, message, data or {}


def ok(results: Any = None) -> dict[str, Any]:
    """The success envelope."""
    return {"status": "ok", "results": results}


def error_body(name: str, status: int, message: str, data: Any = None) -> dict[str, Any]:
    """The error envelope."""
    error = {"name": name, "statusCode": status, "message": message, "data": data or {}}
    return {"status": "error", "error": error}


def from_metricql(err: MetricQLError) -> ApiError:
    """A library error in Lightdash's terms; warehouse errors keep only a public message."""
    name, status = next(v for k, v in ERROR_NAMES.items() if isinstance(err, k))
    if isinstance(err, WarehouseError):
        # A safe message from the library when it has one (issue 11), never the driver text.
        public = getattr(err, "public_message", None)
        return ApiError(name, status, public or WAREHOUSE_MESSAGE, {"code": err.code})
    data = {k: v for k, v in err.to_dict().items() if k != "message"}
    return ApiError(name, status, err.message, data)


_MAX_DEPTH = 2 * DEFAULT_LIMITS.nesting_depth + 8

# Keys of request bodies around the MetricQuery (CSV options, cache and UI context).
REQUEST_KEYS = frozenset(
    {"csvLimit", "onlyRaw", "showTableNames", "customLabels", "columnOrder", "hiddenFields",
     "pivotConfig", "invalidateCache", "context", "chartUuid", "dashboardUuid"}
)  # fmt: skip


def metric_query(body: Any, explore: str | None = None) -> MetricQuery:
    """A MetricQuery from a request body; the explore in the path wins over the body's."""
    if not isinstance(body, Mapping):
        raise ApiError("ParameterError", 400, "the body must be a JSON object (a MetricQuery)")
    data = {k: v for k, v in body.items() if k not in REQUEST_KEYS}
    if explore is not None:
        data["exploreName"] = explore
    if json_depth(data) > _MAX_DEPTH:  # before pydantic recurses into it
        raise ApiError("ParameterError", 400, f"the query nests deeper than {_MAX_DEPTH} levels")
    try:
        return MetricQuery.model_validate(data)
    except ValidationError as err:
        raise invalid(err, "a MetricQuery: exploreName, dimensions, metrics, filters, …") from None


def invalid(err: ValidationError, what: str) -> ApiError:
    """A body that does not validate, as ParameterError naming the first problems."""
    problems = err.errors(include_url=False)
    text = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in problems[:3])
    return ApiError("ParameterError", 400, f"invalid request body: {text}", {"expected": what})


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


class CsvRequest(_Body):
    """The CSV options of a downloadCsv body (the rest of it is the MetricQuery)."""

    only_raw: bool = False
    csv_limit: int | None = Field(default=None, ge=0)
    show_table_names: bool = False
    custom_labels: dict[str, str] = Field(default_factory=dict)
    column_order: list[str] = Field(default_factory=list)
    hidden_fields: list[str] = Field(default_factory=list)


class SqlRequest(_Body):
    """RunSqlQuery / the SQL runner: the SQL and an optional row limit."""

    sql: str
    limit: int | None = Field(default=None, ge=1)


class TotalRequest(_Body):
    """CalculateTotalFromQuery."""

    explore: str
    metric_query: dict[str, Any]
    parameters: dict[str, Any] | None = None  # beside the query, as Lightdash's UI sends them


def items_map(fields: Sequence[CompiledField]) -> dict[str, dict[str, Any]]:
    """Lightdash's ItemsMap of a result: field id → field (label, type, table, format)."""
    return {f.id: _item(f) for f in fields}


def _item(field: CompiledField) -> dict[str, Any]:
    if field.kind.value == "table_calculation":
        return {"name": field.id, "displayName": field.label, "type": field.type}
    name = field.id.removeprefix(f"{field.table}_") if field.table else field.id
    out: dict[str, Any] = {
        "fieldType": "metric" if field.kind.value == "metric" else "dimension",
        "type": field.type,
        "name": name,
        "label": field.label,
        "table": field.table or "",
        "tableLabel": field.table_label or "",
        "hidden": False,
    }
    extra = {"format": field.format, "round": field.round, "timeInterval": field.time_interval}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def columns(fields: Sequence[CompiledField]) -> dict[str, dict[str, str]]:
    """Lightdash's ResultColumns: field id → {reference, type}."""
    return {f.id: {"reference": f.id, "type": _column_type(f.type)} for f in fields}


def _column_type(kind: str) -> str:
    return kind if kind in ("string", "number", "date", "timestamp", "boolean") else "number"
