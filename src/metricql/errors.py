"""The metricql error tree.

    MetricQLError
     ├── ProjectError        a project file is missing, malformed or invalid (file, line, …)
     │    └── ProjectErrors  several ProjectErrors found in one load, reported together
     ├── QueryError          a metric query is invalid (unknown field, bad filter, …)
     │    ├── UnknownFieldError
     │    ├── UnknownExploreError
     │    ├── UnsupportedError   a feature that is parsed but not (yet) compiled
     │    └── ForbiddenError     the user context may not see a table, field or row
     ├── CompileError        a SQL snippet does not parse, a reference is circular or dangling,
     │                       a join path is missing
     ├── WarehouseError      connecting to or executing on a database failed (SQL attached)
     │    └── QueryTimeoutError  a statement ran past its timeout and was cancelled
     ├── MissingDependencyError  an optional extra (pyarrow, a driver) is not installed
     └── ResultConsumedError     a streamed result was read once already

Every error carries a stable `code`, a message saying what is wrong and where, a `hint` saying
what to do, context keywords (file, line, model, field, explore, ...) and `to_dict()` for JSON APIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class MetricQLError(Exception):
    """Base of every error metricql raises on purpose."""

    code: str = "metricql_error"

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context: dict[str, Any] = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        where = _where(self.context)
        text = f"{where}{self.message}" if where else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: code, message, hint and context."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        out.update({k: _jsonable(v) for k, v in self.context.items()})
        return out


def _where(context: dict[str, Any]) -> str:
    file = context.get("file")
    if not file:
        return ""
    line = context.get("line")
    return f"{file}:{line}: " if line else f"{file}: "


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


class ProjectError(MetricQLError):
    """A project file is missing, unreadable, malformed, or describes an invalid model."""

    code = "project_error"


class ProjectErrors(ProjectError):
    """Several project problems found in one load; `errors` holds each of them."""

    code = "project_errors"

    def __init__(self, errors: Sequence[MetricQLError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(f"  - {str(e).replace(chr(10), chr(10) + '    ')}" for e in self.errors)
        super().__init__(
            f"the project has {len(self.errors)} problem(s):\n{lines}",
            hint="fix each problem listed; they were all found in one pass",
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["errors"] = [e.to_dict() for e in self.errors]
        return out


class QueryError(MetricQLError):
    """A metric query is invalid for its explore."""

    code = "query_error"


class UnknownExploreError(QueryError):
    """The query names an explore the project does not have."""

    code = "unknown_explore"


class UnknownFieldError(QueryError):
    """The query (or a filter, sort or calculation in it) names a field the explore lacks."""

    code = "unknown_field"


class UnsupportedError(QueryError):
    """The query uses a feature metricql parses but does not compile (yet)."""

    code = "unsupported"


class ForbiddenError(QueryError):
    """The user context lacks the attributes a table, field or SQL snippet requires."""

    code = "forbidden"


class CompileError(MetricQLError):
    """A SQL snippet does not parse, a reference dangles or is circular, or a join is missing."""

    code = "compile_error"


class CircularReferenceError(CompileError):
    """Fields reference each other in a cycle; `cycle` lists the path."""

    code = "circular_reference"


class MissingDependencyError(MetricQLError):
    """An optional dependency (an extra of the metricql package) is not installed."""

    code = "missing_dependency"


class WarehouseError(MetricQLError):
    """Connecting to or executing on a database failed; `sql` holds the statement, if any."""

    code = "warehouse_error"

    def __init__(
        self, message: str, *, hint: str | None = None, sql: str | None = None, **context: Any
    ) -> None:
        super().__init__(message, hint=hint, **context)
        self.sql = sql

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.sql:
            out["sql"] = self.sql
        return out


class QueryTimeoutError(WarehouseError):
    """A statement ran longer than its timeout and was cancelled; the connection stays usable."""

    code = "query_timeout"


class ResultConsumedError(MetricQLError):
    """A streamed QueryResult was asked for its rows after its batches were read."""

    code = "result_consumed"
