"""The public facade: load a project, compile and run metric queries."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from metricql._gc import gc_paused
from metricql.compiler.access import visible_explore
from metricql.compiler.cache import CompileCache, cache_key
from metricql.compiler.compile import compile_query, compile_totals
from metricql.compiler.compiled import CompiledQuery
from metricql.compiler.explain import Explanation, explain_query
from metricql.compiler.expressions import UserContext
from metricql.errors import ForbiddenError, ProjectErrors, UnknownExploreError, WarehouseError
from metricql.project.loader import load_project_schema
from metricql.project.profile import ProfileTarget
from metricql.project.schema import ProjectSchema
from metricql.query.model import MetricQuery
from metricql.results.result import QueryResult
from metricql.semantic.build import build_explores
from metricql.semantic.explore import Explore
from metricql.warehouse import dbapi

if TYPE_CHECKING:
    from metricql.validate import ContentProblem


class Project:
    """A loaded dbt project: its explores, and compile/run over them. Immutable once built."""

    def __init__(
        self, schema: ProjectSchema, explores: Mapping[str, Explore], *, cache_size: int = 1024
    ) -> None:
        # The explores hold everything queries need; the parsed YAML of the models would only
        # double the memory of a large project.
        self._schema = schema.model_copy(update={"models": ()})
        self._explores: Mapping[str, Explore] = MappingProxyType(dict(explores))
        self._lock = threading.Lock()
        self._connection: Any = None  # opened on first use, then reused (one per project)
        self._cache = CompileCache(cache_size)
        self._cache_size = cache_size

    @property
    def name(self) -> str:
        """dbt project name."""
        return self._schema.name

    @property
    def root(self) -> Path:
        """Folder holding dbt_project.yml."""
        return self._schema.root

    @property
    def target(self) -> ProfileTarget | None:
        """The profile target in use (None when no profiles.yml was found)."""
        return self._schema.target

    @property
    def dialect(self) -> str:
        """Dialect of the project's warehouse (DuckDB when there is no profile)."""
        return self.target.dialect if self.target else "duckdb"

    @property
    def week_start(self) -> int | None:
        """First day of week intervals (0 = Monday … 6 = Sunday), None for the default."""
        return self._schema.week_start

    @property
    def explores(self) -> Mapping[str, Explore]:
        """Every explore by name."""
        return self._explores

    def with_explores(self, explores: Mapping[str, Explore]) -> Project:
        """A project with this one's profile and settings serving `explores` instead (e.g. from
        `load_explores_json`); this project is left as it is."""
        return Project(self._schema, explores, cache_size=self._cache_size)

    def explores_for(self, user: UserContext | None) -> Mapping[str, Explore]:
        """The explores `user` may see, without the tables and fields it may not."""
        visible = {n: visible_explore(e, user) for n, e in self._explores.items()}
        return MappingProxyType({n: e for n, e in visible.items() if e is not None})

    def explore(self, name: str) -> Explore:
        """One explore; an unknown name raises UnknownExploreError with a suggestion."""
        found = self._explores.get(name)
        if found is not None:
            return found
        close = difflib.get_close_matches(name, list(self._explores), n=1)
        raise UnknownExploreError(
            f"explore {name!r} does not exist",
            hint=f"did you mean {close[0]!r}?"
            if close
            else f"explores: {', '.join(sorted(self._explores)) or 'none'}",
            explore=name,
        )

    def compile(
        self,
        query: MetricQuery,
        *,
        dialect: str | None = None,
        user: UserContext | None = None,
        now: datetime | None = None,
        max_limit: int | None = None,
        strict: bool = False,
    ) -> CompiledQuery:
        """SQL for `query` in `dialect` (default: the project's warehouse dialect).

        `strict`: raise CompileError instead of warning when a join may inflate a metric.
        Results are cached (bounded LRU) by everything the SQL depends on, user included;
        queries with relative-date filters and no explicit `now` are always compiled afresh.
        """
        explore = self.explore(query.explore_name)
        dialect = dialect or self.dialect
        key = cache_key(explore, query, user, now, (dialect, max_limit, strict))
        return self._cache.get_or_compile(
            key,
            lambda: _compile_paused(
                explore,
                query,
                dialect=dialect,
                user=user,
                now=now,
                week_start=self._schema.week_start,
                max_limit=max_limit,
                strict=strict,
            ),
        )

    def explain(
        self,
        query: MetricQuery,
        *,
        dialect: str | None = None,
        user: UserContext | None = None,
        now: datetime | None = None,
    ) -> Explanation:
        """How `query` compiles: joins and why, fan-out, where metrics and filters go."""
        return explain_query(
            self.explore(query.explore_name),
            query,
            dialect=dialect or self.dialect,
            user=user,
            now=now,
            week_start=self._schema.week_start,
        )

    def compile_totals(
        self,
        query: MetricQuery,
        *,
        dialect: str | None = None,
        user: UserContext | None = None,
        now: datetime | None = None,
    ) -> CompiledQuery:
        """The single-row grand-total query of `query` (see `totals`)."""
        return compile_totals(
            self.explore(query.explore_name),
            query,
            dialect=dialect or self.dialect,
            user=user,
            now=now,
            week_start=self._schema.week_start,
        )

    def totals(
        self,
        query: MetricQuery,
        *,
        connection: Any = None,
        user: UserContext | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Grand total of each metric over the rows `query` covers (CalculateTotalFromQuery)."""
        connection, dialect, execute = self._executor(connection, None)
        compiled = self.compile_totals(query, dialect=dialect, user=user, now=now)
        columns, rows = execute(connection, compiled.sql)
        return (
            dict(zip(columns, rows[0], strict=True)) if rows else dict.fromkeys(compiled.field_ids)
        )

    def run(
        self,
        query: MetricQuery,
        *,
        connection: Any = None,
        user: UserContext | None = None,
        now: datetime | None = None,
        strict: bool = False,
        dialect: str | None = None,
    ) -> QueryResult:
        """Compile and execute on `connection` or the project's DuckDB target.

        `connection` is a DuckDB connection, or any DB-API 2.0 connection; for the latter the
        SQL is compiled for `dialect` (default: the project's warehouse dialect).
        """
        connection, dialect, execute = self._executor(connection, dialect)
        compiled = self.compile(query, dialect=dialect, user=user, now=now, strict=strict)
        columns, rows = execute(connection, compiled.sql)
        return QueryResult.from_rows(compiled, columns, rows)

    def run_sql(
        self,
        sql: str,
        *,
        limit: int = 500,
        user: UserContext | None = None,
        connection: Any = None,
    ) -> QueryResult:
        """Run one read-only SELECT (RunSqlQuery) with at most `limit` rows.

        Anything but a single SELECT over named tables raises ForbiddenError (see
        `metricql.compiler.raw_sql`), as does a `user` without the custom-SQL permission.
        Result fields are named by the query's columns, typed from their values.
        """
        if user is not None and not user.custom_sql:
            raise ForbiddenError(
                "this user may not run custom SQL",
                hint="give the user the custom SQL permission (custom_sql: true)",
            )
        connection, dialect, execute = self._executor(connection, None)
        from metricql.compiler.raw_sql import read_only_query  # on use: keep imports light
        from metricql.results.lightdash import sql_field

        text = read_only_query(sql, dialect, limit)
        columns, rows = execute(connection, text)
        fields = tuple(sql_field(c, [r[i] for r in rows]) for i, c in enumerate(columns))
        compiled = CompiledQuery(
            sql=text, dialect=dialect, fields=fields, explore="", tree=exp.null()
        )
        return QueryResult.from_rows(compiled, columns, rows)

    def _executor(self, connection: Any, dialect: str | None) -> tuple[Any, str, Any]:
        if connection is None:
            connection = self._target_connection()
            self.ensure_seeded(connection)
        if dbapi.is_duckdb(connection):
            return connection, "duckdb", _duck().execute
        return connection, dialect or self.dialect, dbapi.execute

    def seed(self, connection: Any = None) -> list[str]:
        """Load seeds/*.csv into the DuckDB target (like `dbt seed`); returns table names."""
        conn = connection if connection is not None else self._target_connection()
        schema = self.target.schema if self.target else None
        loaded: list[str] = _duck().load_seeds(conn, list(self._schema.seed_paths), schema)
        return loaded

    def ensure_seeded(self, connection: Any = None) -> list[str]:
        """Load the seeds if any seed table is missing from the DuckDB target; returns them."""
        conn = connection if connection is not None else self._target_connection()
        with self._lock:
            schema = self.target.schema if self.target else None
            wanted = [(schema, p.stem) for p in self._schema.seed_paths]
            if not wanted or not _duck().missing_tables(conn, wanted):
                return []
            loaded: list[str] = _duck().load_seeds(conn, list(self._schema.seed_paths), schema)
        return loaded

    def validate(self) -> list[str]:
        """Warnings of every explore (problems already raised at load time)."""
        return sorted({w for e in self._explores.values() for w in e.warnings})

    def validate_content(self, path: str | Path) -> list[ContentProblem]:
        """Charts and dashboards as code under `path` (what `lightdash download` writes),
        checked against the explores; files that cannot be read are raised (ProjectErrors)."""
        from metricql.project.content import load_content  # pydantic models: load on use
        from metricql.validate import validate_content

        content = load_content(path)
        if content.problems:
            problems = content.problems
            raise problems[0] if len(problems) == 1 else ProjectErrors(problems)
        return validate_content(self, content)

    def close(self) -> None:
        """Close the project's own warehouse connection, if one was opened."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _target_connection(self) -> Any:
        with self._lock:
            if self._connection is None:
                self._connection = self._open_target()
            return self._connection

    def _open_target(self) -> Any:
        target = self.target
        if target is None or target.type != "duckdb":
            kind = target.type if target else "none"
            raise WarehouseError(
                f"project {self.name!r} has no DuckDB target to run on (target type: {kind})",
                hint="pass connection=<duckdb connection>, or add a duckdb output to profiles.yml",
            )
        return _duck().connect(target)


def _compile_paused(explore: Explore, query: MetricQuery, **options: Any) -> CompiledQuery:
    """compile_query with the cyclic GC paused (see metricql._gc)."""
    with gc_paused():
        return compile_query(explore, query, **options)


def _duck() -> ModuleType:
    """The DuckDB warehouse module, imported on first use: `import metricql` stays light."""
    from metricql.warehouse import duckdb as duck

    return duck


def load_project(path: str | Path, *, target: str | None = None) -> Project:
    """Load the dbt project at `path`; every problem in it is raised at once as ProjectErrors."""
    with gc_paused():
        schema = load_project_schema(path, target=target)
        explores, problems = build_explores(schema)
    if problems:
        raise problems[0] if len(problems) == 1 else ProjectErrors(problems)
    return Project(schema, explores)


def load_explores_json(source: Any) -> dict[str, Explore]:
    """Explores from Lightdash's compiled Explore JSON (SetExplores): a list of explores, a
    JSON file path or text. Entries that are Lightdash ExploreErrors are skipped; every problem
    of the others is raised at once (ProjectErrors). Serve them with `project.with_explores`."""
    from metricql.project.explore_json import read_explores_json  # pydantic: load on use
    from metricql.semantic.from_lightdash import explores_from_json

    entries, _ = read_explores_json(source)
    with gc_paused():
        return explores_from_json(entries)
