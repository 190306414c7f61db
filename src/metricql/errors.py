"""The metricql error tree.

    MetricQLError
     ├── ProjectError        a project file is missing, malformed or invalid (file, line, …)
     │    └── ProjectErrors  what `load_project` raises: every problem of one load (`errors`)
     ├── QueryError          a metric query is invalid (unknown field, bad filter, …)
     │    ├── UnknownFieldError
     │    ├── UnknownExploreError
     │    ├── UnsupportedError   a feature that is parsed but not (yet) compiled
     │    ├── ForbiddenError     the user context may not see a table, field or row
     │    │    └── SqlPolicyError  custom SQL breaks the custom-SQL policy
     │    └── LimitError         a query exceeds one of the `Limits`
     ├── CompileError        a SQL snippet does not parse, a reference is circular or dangling,
     │                       a join path is missing
     ├── WarehouseError      connecting to or executing on a database failed (SQL attached)
     │    └── QueryTimeoutError  a statement ran past its timeout and was cancelled
     ├── MissingDependencyError  an optional extra (pyarrow, a driver) is not installed
     └── ResultConsumedError     a streamed result was read once already

Every error carries a stable `code`, a message saying what is wrong and where, a `hint` saying
what to do, context keywords (file, line, model, field, explore, ...) and `to_dict()` for JSON APIs.

Warnings (and problems kept as data rather than raised) are `Issue`s: the same code, message,
hint and `Where`, with a level.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Where:
    """Where a problem is: a project file and line, and the model, explore and field."""

    file: str | None = None
    line: int | None = None
    model: str | None = None
    explore: str | None = None
    field: str | None = None

    @classmethod
    def of(cls, context: Mapping[str, Any]) -> Where:
        """The location keys of an error's context."""
        line = context.get("line")
        return cls(
            file=_text(context.get("file")),
            line=line if isinstance(line, int) else None,
            model=_text(context.get("model")),
            explore=_text(context.get("explore")),
            field=_text(context.get("field")),
        )

    @property
    def prefix(self) -> str:
        """`file:line: ` (or `file: `) to put before a message; empty without a file."""
        if not self.file:
            return ""
        return f"{self.file}:{self.line}: " if self.line else f"{self.file}: "

    def to_dict(self) -> dict[str, Any]:
        """The keys that are set."""
        keys = ("file", "line", "model", "explore", "field")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, os.PathLike)) else None


Level = Literal["warning", "error"]


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem as data (a warning, or an error reported rather than raised): its stable
    `code`, message, hint, level and where. `str()` reads like the message of an error."""

    code: str
    message: str
    hint: str | None = None
    level: Level = "warning"
    where: Where = field(default_factory=Where)

    def __str__(self) -> str:
        return f"{self.where.prefix}{self.message}"

    @classmethod
    def of(cls, error: MetricQLError) -> Issue:
        """An error kept as data."""
        return cls(error.code, error.message, error.hint, "error", error.where)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: code, level, message, hint and where."""
        out: dict[str, Any] = {"code": self.code, "level": self.level, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return {**out, **self.where.to_dict()}


class MetricQLError(Exception):
    """Base of every error metricql raises on purpose."""

    code: str = "metricql_error"

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context: dict[str, Any] = {k: v for k, v in context.items() if v is not None}

    @property
    def where(self) -> Where:
        """The location keys of the context (file, line, model, explore, field)."""
        return Where.of(self.context)

    def __str__(self) -> str:
        text = f"{self.where.prefix}{self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: code, message, hint and context."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        out.update({k: _jsonable(v) for k, v in self.context.items()})
        return out


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
    """Every problem found in one load, whatever their number; `errors` holds each of them.

    With one problem it reads like that problem (message, hint, context), so callers catch one
    type and people still see one plain message.
    """

    code = "project_errors"
    errors: tuple[MetricQLError, ...]

    def __init__(self, errors: Sequence[MetricQLError]) -> None:
        self.errors = tuple(  # a nested ProjectErrors gives its problems, not itself
            e
            for error in errors
            for e in (error.errors if isinstance(error, ProjectErrors) else (error,))
        )
        if len(self.errors) == 1:
            (only,) = self.errors
            super().__init__(only.message, hint=only.hint, **only.context)
            return
        lines = "\n".join(f"  - {str(e).replace(chr(10), chr(10) + '    ')}" for e in self.errors)
        super().__init__(
            f"the project has {len(self.errors)} problem(s):\n{lines}",
            hint="fix each problem listed; they were all found in one pass",
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["errors"] = [e.to_dict() for e in self.errors]
        return out


def raise_all(problems: Sequence[MetricQLError]) -> None:
    """Raise every problem of a load at once as one ProjectErrors; nothing when there is none."""
    if problems:
        raise ProjectErrors(problems)


def did_you_mean(name: str, candidates: Iterable[str], *, otherwise: str) -> str:
    """A hint naming up to three close matches of `name`, else `otherwise`."""
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return otherwise
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


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


class SqlPolicyError(ForbiddenError):
    """A query author's custom SQL contains what the custom-SQL policy refuses (a subquery,
    a table, a raw column, an unlisted function, ...)."""

    code = "sql_policy"


class LimitError(QueryError):
    """A query (or project) exceeds one of the `Limits`; `limit` names it."""

    code = "limit_exceeded"


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
    public_text = "the warehouse could not run the query"

    def __init__(
        self, message: str, *, hint: str | None = None, sql: str | None = None, **context: Any
    ) -> None:
        super().__init__(message, hint=hint, **context)
        self.sql = sql

    @property
    def public_message(self) -> str:
        """What an end user may see: the code and a generic text, never the driver's message
        (it can quote the data a query touched)."""
        return f"{self.public_text} ({self.code})"

    @property
    def detail(self) -> str:
        """The full driver message and SQL, for the trusted caller only."""
        return f"{self.message}\nsql: {self.sql}" if self.sql else self.message

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.sql:
            out["sql"] = self.sql
        return out


class QueryTimeoutError(WarehouseError):
    """A statement ran longer than its timeout and was cancelled; the connection stays usable."""

    code = "query_timeout"
    public_text = "the query ran past its timeout and was cancelled"


class ResultConsumedError(MetricQLError):
    """A streamed QueryResult was asked for its rows after its batches were read."""

    code = "result_consumed"
