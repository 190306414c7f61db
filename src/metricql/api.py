"""The public facade: load a project, compile and run metric queries."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from sqlglot import exp

from metricql._gc import FREEZE_FROM_MODELS, freeze_loaded, gc_paused
from metricql.compiler.cache import CompileCache, cache_key
from metricql.compiler.compile import compile_query
from metricql.compiler.compiled import CompiledQuery
from metricql.compiler.features.explain import Explanation, explain_query
from metricql.compiler.features.totals import compile_totals
from metricql.compiler.options import CompileOptions
from metricql.compiler.plan.access import allowed, visible_explore
from metricql.compiler.shape import HashedKey, ShapeCache, shape_key
from metricql.context import UserContext
from metricql.errors import (
    CompileError,
    ForbiddenError,
    Issue,
    MetricQLError,
    ProjectError,
    ProjectErrors,
    QueryError,
    UnknownExploreError,
    WarehouseError,
    did_you_mean,
    raise_all,
)
from metricql.limits import DEFAULT_LIMITS, Limits
from metricql.loading import load
from metricql.project.profile import ProfileTarget
from metricql.project.schema import ProjectSchema
from metricql.query.model import MetricQuery
from metricql.results.result import QueryResult
from metricql.semantic.explore import Explore
from metricql.semantic.isolation import project_problems
from metricql.semantic.lazy import LazyExplores, explore_builder
from metricql.semantic.parameters import Parameter, project_parameters
from metricql.warehouse.base import Execution, Warehouse
from metricql.warehouse.connection import warehouse_for
from metricql.warehouse.profiles import open_warehouse

_T = TypeVar("_T")

if TYPE_CHECKING:
    from metricql.relationships import RelationshipReport
    from metricql.validate import ContentProblem


class Project:
    """A loaded dbt project: its explores, and compile/run over them. Immutable once built."""

    def __init__(
        self,
        schema: ProjectSchema,
        explores: Mapping[str, Explore],
        *,
        cache_size: int = 1024,
        broken: Mapping[str, tuple[MetricQLError, ...]] | None = None,
    ) -> None:
        # The explores hold everything queries need; the parsed YAML of the models would only
        # double the memory of a large project.
        self._schema = schema.model_copy(update={"models": ()})
        self._origins = {m.name: m.relation_origin for m in schema.models if m.relation_origin}
        self._parameters = MappingProxyType(project_parameters(schema))
        self._explores: Mapping[str, Explore]
        if isinstance(explores, LazyExplores):  # built on first use: keep what validation saw
            self._explores = explores
            self._origins = dict(explores.validation.origins)
            self._parameters = MappingProxyType(dict(explores.validation.parameters))
        else:
            self._explores = MappingProxyType(dict(explores))
        self._broken: Mapping[str, tuple[MetricQLError, ...]] = MappingProxyType(dict(broken or {}))
        self._lock = threading.Lock()
        self._warehouse: Warehouse | None = None  # opened on first use, closed by close()
        # The opened warehouse whose seed tables were found present: a catalog query per run
        # costs ~3 ms under the lock, so it is asked once per warehouse (again after seed()).
        self._seeded: Warehouse | None = None
        self._cache = CompileCache(cache_size)
        self._shapes = ShapeCache(cache_size)
        self._cache_size = cache_size
        self._limits = DEFAULT_LIMITS
        self._sql_policy = False

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
    def parameters(self) -> Mapping[str, Parameter]:
        """Every Lightdash parameter by the name SQL references it with: lightdash.config.yml's
        as `<name>`, a model's `meta.parameters` as `<model>.<name>` (for UIs to list)."""
        return self._parameters

    @property
    def explores(self) -> Mapping[str, Explore]:
        """Every explore by name."""
        return self._explores

    def with_explores(self, explores: Mapping[str, Explore]) -> Project:
        """A project with this one's profile and settings serving `explores` instead (e.g. from
        `load_explores_json`); this project is left as it is."""
        project = Project(self._schema, explores, cache_size=self._cache_size)
        project._limits, project._sql_policy = self._limits, self._sql_policy
        return project

    def with_limits(self, limits: Limits, *, sql_policy: bool = False) -> Project:
        """A project enforcing `limits` on every query (and, with `sql_policy`, the custom-SQL
        policy on trusted callers' queries too); this project is left as it is."""
        project = self.with_explores(self._explores)
        project._limits, project._sql_policy = limits, sql_policy
        # The same explores: their broken ones, relation origins and model parameters too
        # (rebuilt from a schema without models, an eager project would lose the last two).
        project._broken, project._origins = self._broken, self._origins
        project._parameters = self._parameters
        return project

    def explores_for(self, user: UserContext | None) -> Mapping[str, Explore]:
        """The explores `user` may see, without the tables and fields it may not."""
        visible = {n: visible_explore(e, user) for n, e in self._explores.items()}
        return MappingProxyType({n: e for n, e in visible.items() if e is not None})

    @property
    def broken_explores(self) -> Mapping[str, tuple[MetricQLError, ...]]:
        """Explores that could not be built, by name, with their errors (Lightdash's
        ExploreErrors); the other explores work without them."""
        return self._broken

    @property
    def errors(self) -> tuple[MetricQLError, ...]:
        """Every error of the load, each once: broken explores, then fields left out."""
        return tuple(project_problems(self._field_errors(), self._broken))

    def _field_errors(self) -> Mapping[str, tuple[MetricQLError, ...]]:
        """Each explore's fields left out, without building lazy explores."""
        if isinstance(self._explores, LazyExplores):
            return self._explores.validation.field_errors
        return {n: e.errors for n, e in self._explores.items()}

    def explore_errors(self) -> list[dict[str, Any]]:
        """The broken explores as Lightdash's ExploreError entries (`name`, `label`,
        `errors: [{type, message}]`), for `explore_summaries`."""
        kinds = {CompileError: "METADATA_PARSE_ERROR", ProjectError: "METADATA_PARSE_ERROR"}
        return [
            {
                "name": name,
                "label": name,
                "errors": [
                    {
                        "type": next(
                            (v for k, v in kinds.items() if isinstance(e, k)),
                            "NO_DIMENSIONS_FOUND",
                        ),
                        "message": f"{e.where.prefix}{e.message}",
                    }
                    for e in errors
                ],
            }
            for name, errors in sorted(self._broken.items())
        ]

    def explore_summaries(self, user: UserContext | None = None) -> list[dict[str, Any]]:
        """Lightdash's explores list as `user` sees it (`mq.explore_summaries` of
        `explores_for(user)` and the broken explores), without building lazy explores."""
        from metricql.catalog import explore_summaries, summary_list  # on use: import stays light

        lazy = self._explores if isinstance(self._explores, LazyExplores) else None
        if lazy is None or len(lazy.validation.listing) != len(lazy):
            return explore_summaries(self.explores_for(user), self.explore_errors())
        rows = [
            summary
            for summary, own, base, base_any in lazy.validation.listing.values()
            if allowed(own, user) and allowed(base, user, base_any)
        ]
        return summary_list(rows, self.explore_errors())

    def explore(self, name: str, *, user: UserContext | None = None) -> Explore:
        """One explore; an unknown name raises UnknownExploreError with a suggestion (drawn
        only from the explores `user` may see, when a user is given); a broken one raises its
        own error."""
        found = self._explores.get(name)
        if found is not None:
            return found
        errors = self._broken.get(name)
        if errors:
            raise errors[0] if len(errors) == 1 else ProjectErrors(errors)
        names = self._explores if user is None else self.explores_for(user)
        raise UnknownExploreError(
            f"explore {name!r} does not exist",
            hint=did_you_mean(
                name,
                names,
                otherwise=f"explores: {', '.join(sorted(names)) or 'none'}",
            ),
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
        parameters: Mapping[str, Any] | None = None,
    ) -> CompiledQuery:
        """SQL for `query` in `dialect` (default: the project's warehouse dialect).

        `strict`: raise CompileError instead of warning when a join may inflate a metric.
        `parameters`: Lightdash parameter values by name (over the query's `parameters`).
        Results are cached (bounded LRU) by everything the SQL depends on, user included;
        queries with relative-date filters and no explicit `now` are always compiled afresh.
        A query differing from an earlier one only in filter values is re-rendered from that
        query shape's SQL (the shape cache), byte for byte what a fresh compile gives.
        """
        explore = self.explore(query.explore_name, user=user)
        self._check_parameter_names(explore, query, parameters)
        options = self._options(
            dialect, user, now, max_limit=max_limit, strict=strict, parameters=parameters
        )

        def fresh(q: MetricQuery) -> CompiledQuery:
            return _paused(compile_query, explore, q, options)

        shape = shape_key(explore, query, options)
        if shape is None:  # reads the clock, or holds unhashable values
            return self._cache.get_or_compile(
                cache_key(explore, query, options), lambda: fresh(query)
            )
        # The shape and its values name the query exactly: no second walk of it for the key.
        # Floats by repr: 0.0 == -0.0, but they render differently.
        key = HashedKey((shape[0], tuple(repr(v) if type(v) is float else v for v in shape[1])))
        return self._cache.get_or_compile(key, lambda: self._shapes.compile(shape, query, fresh))

    def explain(
        self,
        query: MetricQuery,
        *,
        dialect: str | None = None,
        user: UserContext | None = None,
        now: datetime | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> Explanation:
        """How `query` compiles: joins and why, fan-out, where metrics and filters go."""
        explore = self.explore(query.explore_name, user=user)
        self._check_parameter_names(explore, query, parameters)
        options = self._options(dialect, user, now, parameters=parameters)
        return _paused(explain_query, explore, query, options)

    def compile_totals(
        self,
        query: MetricQuery,
        *,
        dialect: str | None = None,
        user: UserContext | None = None,
        now: datetime | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> CompiledQuery:
        """The single-row grand-total query of `query` (see `totals`)."""
        explore = self.explore(query.explore_name, user=user)
        self._check_parameter_names(explore, query, parameters)
        options = self._options(dialect, user, now, parameters=parameters)
        return _paused(compile_totals, explore, query, options)

    def _check_parameter_names(
        self, explore: Explore, query: MetricQuery, given: Mapping[str, Any] | None
    ) -> None:
        """QueryError for a parameter value whose name the project does not define: a typo
        would otherwise leave the parameter at its default and the numbers silently wrong.
        Names of other explores' parameters pass (a dashboard sends its parameters to every
        tile)."""
        names = [*(given or ()), *(query.parameters or ())]
        unknown = [n for n in names if n not in self._parameters and n not in explore.parameters]
        if unknown:
            known = sorted({*self._parameters, *explore.parameters})
            raise QueryError(
                f"parameter {unknown[0]!r} is not defined in this project",
                hint=did_you_mean(unknown[0], known, otherwise="remove it")
                if known
                else "this project defines no parameters: remove it",
                parameter=unknown[0],
            )

    def _options(
        self,
        dialect: str | None,
        user: UserContext | None,
        now: datetime | None,
        *,
        max_limit: int | None = None,
        strict: bool = False,
        parameters: Mapping[str, Any] | None = None,
    ) -> CompileOptions:
        return CompileOptions(
            dialect=dialect or self.dialect,
            user=user,
            now=now,
            week_start=self._schema.week_start,
            max_limit=max_limit,
            strict=strict,
            parameters=MappingProxyType(dict(parameters or {})),
            sql_policy=self._sql_policy,
            limits=self._limits,
            timezone_buckets=self._schema.timezone_buckets,
        )

    def totals(
        self,
        query: MetricQuery,
        *,
        connection: Any = None,
        user: UserContext | None = None,
        now: datetime | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Grand total of each metric over the rows `query` covers (CalculateTotalFromQuery);
        `parameters` as for `run`."""
        warehouse = self._warehouse_for(connection, None)
        compiled = self.compile_totals(
            query, dialect=warehouse.dialect, user=user, now=now, parameters=parameters
        )
        columns, rows = warehouse.execute(compiled.sql)
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
        timeout: float | None = None,
        max_rows: int | None = None,
        stream: bool = False,
        parameters: Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Compile and execute on `connection` or the project's profile target.

        `connection` is a DuckDB connection, a SparkSession, or any DB-API 2.0 connection;
        for the latter the SQL is compiled for `dialect` (default: the project's dialect).
        `timeout` (seconds) cancels a statement that runs longer (QueryTimeoutError);
        `max_rows` stops fetching after that many rows; `stream` returns a result whose rows
        are read from the warehouse as `batches()`/`csv_chunks()` consume them (close it, or
        use it in a `with` block, if not read to the end).
        """
        warehouse = self._warehouse_for(connection, dialect)
        compiled = self.compile(
            query,
            dialect=warehouse.dialect,
            user=user,
            now=now,
            strict=strict,
            parameters=parameters,
        )
        execution = Execution(timeout=timeout, max_rows=max_rows)
        if stream:
            return QueryResult.from_stream(compiled, warehouse.stream(compiled.sql, execution))
        return QueryResult.from_fetched(compiled, warehouse.fetch(compiled.sql, execution))

    @property
    def warehouse(self) -> Warehouse:
        """The profile target's warehouse, opened on first use (connections on first query)."""
        with self._lock:
            if self._warehouse is None:
                self._warehouse = self._open_target()
            return self._warehouse

    def _warehouse_for(self, connection: Any, dialect: str | None) -> Warehouse:
        if connection is not None:
            return warehouse_for(connection, dialect or self.dialect)
        warehouse = self.warehouse
        seeds = warehouse.dialect == "duckdb" and self._schema.seed_paths
        if seeds and self._seeded is not warehouse:
            self.ensure_seeded()
        return warehouse

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
        warehouse = self._warehouse_for(connection, None)
        from metricql.compiler.raw_sql import read_only_query  # on use: keep imports light
        from metricql.results.lightdash import sql_field

        text = read_only_query(sql, warehouse.dialect, limit)
        columns, rows = warehouse.execute(text)
        fields = tuple(sql_field(c, [r[i] for r in rows]) for i, c in enumerate(columns))
        compiled = CompiledQuery(
            sql=text, dialect=warehouse.dialect, fields=fields, explore="", tree=exp.null()
        )
        return QueryResult.from_rows(compiled, columns, rows)

    def check_relationships(
        self, connection: Any = None, *, sample: int | None = None, dialect: str | None = None
    ) -> RelationshipReport:
        """Check the data against the YAML: every primary key unique, every join's declared
        `relationship` true (one statement per key and per direction). `sample` reads only
        the first `sample` rows or keys of each table; None checks everything."""
        from metricql.relationships import check_relationships  # on use: keep imports light

        warehouse = self._warehouse_for(connection, dialect)
        return check_relationships(self.explores.values(), warehouse, sample)

    def seed(self, connection: Any = None) -> list[str]:
        """Load seeds/*.csv into the DuckDB target (like `dbt seed`); returns table names."""
        conn = connection if connection is not None else self._target_connection()
        schema = self.target.schema if self.target else None
        with self._lock:
            self._seeded = None  # tables were (re)created: the next run checks again
        loaded: list[str] = _duck().load_seeds(
            conn, list(self._schema.seed_paths), schema, self._schema.seed_column_types
        )
        return loaded

    def ensure_seeded(self, connection: Any = None) -> list[str]:
        """Load the seeds if any seed table is missing from the DuckDB target; returns them.

        `run` calls this once per opened target (again after `seed()` or `close()`).
        """
        own = self.warehouse if connection is None else None
        conn = connection if connection is not None else self._target_connection()
        with self._lock:
            schema = self.target.schema if self.target else None
            wanted = [(schema, p.stem) for p in self._schema.seed_paths]
            loaded: list[str] = []
            if wanted and _duck().missing_tables(conn, wanted):
                loaded = _duck().load_seeds(
                    conn, list(self._schema.seed_paths), schema, self._schema.seed_column_types
                )
            if own is not None and own is self._warehouse:
                self._seeded = own
        return loaded

    @property
    def issues(self) -> tuple[Issue, ...]:
        """Load warnings, then every explore's (each once): problems that were not raised."""
        lazy = self._explores if isinstance(self._explores, LazyExplores) else None
        every = (
            lazy.validation.issues.values() if lazy else (e.issues for e in self._explores.values())
        )
        explores = {i: None for issues in every for i in issues}
        return (*self._schema.issues, *sorted(explores, key=str))

    def validate(self) -> list[str]:
        """The errors (`file:line: message`), then the warnings, as text."""
        return [f"{e.where.prefix}{e.message}" for e in self.errors] + [
            str(issue) for issue in self.issues
        ]

    def relation_origin(self, model: str) -> str | None:
        """How the relation of `model` was named (dbt config, macros, manifest), if known."""
        return self._origins.get(model)

    def relations(self) -> dict[str, tuple[str, str]]:
        """Explore → (the relation its base table reads, in SQL, and how that name was decided)."""
        out = {}
        for name in sorted(self._explores):
            table = self._explores[name].tables[self._explores[name].base_table]
            origin = self._origins.get(table.original_name, "the model's name")
            out[name] = (table.relation.sql(dialect=self.dialect), origin)
        return out

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
        """Close the warehouse connections the project opened (never a caller's own)."""
        with self._lock:
            warehouse, self._warehouse = self._warehouse, None
            self._seeded = None
        if warehouse is not None:
            warehouse.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _target_connection(self) -> Any:
        """The DuckDB target's connection (seeds load into DuckDB only)."""
        warehouse = self.warehouse
        connection = getattr(warehouse, "connection", None)
        if warehouse.dialect != "duckdb" or connection is None:
            raise WarehouseError(
                f"seeds load into a DuckDB target only; target "
                f"{self.target.target if self.target else None!r} is {warehouse.dialect}",
                hint="pass connection=<duckdb connection>, or use a duckdb target (--target)",
            )
        return connection

    def _open_target(self) -> Warehouse:
        target = self.target
        if target is None:
            raise WarehouseError(
                f"project {self.name!r} has no profile target to run on (no profiles.yml found)",
                hint="pass connection=<duckdb connection>, or add profiles.yml with a target",
            )
        return open_warehouse(target, read_only=target.type != "duckdb")


def _paused(
    compile_: Callable[[Explore, MetricQuery, CompileOptions], _T],
    explore: Explore,
    query: MetricQuery,
    options: CompileOptions,
) -> _T:
    """A compile step with the cyclic GC paused (see metricql._gc)."""
    with gc_paused():
        return compile_(explore, query, options)


def _duck() -> ModuleType:
    """The DuckDB warehouse module, imported on first use: `import metricql` stays light."""
    from metricql.warehouse import duckdb as duck

    return duck


def load_project(
    path: str | Path,
    *,
    target: str | None = None,
    source_dialect: str | None = None,
    connection: Any = None,
    strict: bool = False,
    freeze: bool | None = None,
    eager: bool = False,
    cache: bool = True,
) -> Project:
    """Load the dbt project at `path` with every explore that can be built.

    As in Lightdash, a broken field is left out of its explore and a broken model or explore
    is recorded: `project.errors`, `project.broken_explores`, `explore.errors`; a query that
    names one raises its error. `strict=True` raises every problem at once as ProjectErrors.

    `source_dialect`: the dialect the YAML's SQL is written in (default: the profile target's,
    else DuckDB, with a warning in `validate()`). Columns the YAML, manifest and catalog.json
    leave untyped are typed by `connection` (DuckDB or DB-API), else by the DuckDB target's
    file when it exists. `freeze` moves the loaded project out of the cyclic GC's reach
    (`gc.freeze()`: no full-collection pauses walking it; its memory is kept for the
    process's life); None does so for projects of 200 models or more.

    Every explore is built and checked at load, but only its errors and the models' parsed
    YAML (as bytes) are kept: an explore's SQL trees are built again on first use. `eager`
    keeps the explores built at load instead (more memory, no first-use cost).

    `cache`: keep what validation found under the project's `target/metricql/` and load from
    it while no input changed (see `metricql.project.cache`; `METRICQL_NO_CACHE=1` switches
    it off everywhere). Not used with `connection`, `eager` or a manifest.json `path`.
    """
    use_cache = cache and not eager
    with gc_paused():
        loaded = load(
            path,
            target=target,
            source_dialect=source_dialect,
            strict=strict,
            connection=connection,
            use_cache=use_cache,
            eager=eager,
        )
    validation = loaded.validation
    if strict:
        raise_all(project_problems(validation.field_errors, validation.broken))
    count = len(validation.owners)
    frozen = freeze if freeze is not None else count >= FREEZE_FROM_MODELS
    explores: Mapping[str, Explore] = loaded.built or {}
    if not eager:
        build = explore_builder(loaded.models, loaded.schema, validation)
        explores = LazyExplores(
            validation, _paused_builder(build), freeze_loaded if frozen else _nothing
        )
    project = Project(loaded.schema, explores, broken=validation.broken)
    del loaded  # what the load no longer needs is freed before freezing
    if frozen:
        freeze_loaded()
    return project


def _nothing() -> None:
    """No-op."""


def _paused_builder(build: Callable[[str], Explore]) -> Callable[[str], Explore]:
    """`build` with the cyclic GC paused (see metricql._gc)."""

    def paused(name: str) -> Explore:
        with gc_paused():
            return build(name)

    return paused


def load_explores_json(source: Any) -> dict[str, Explore]:
    """Explores from Lightdash's compiled Explore JSON (SetExplores): a list of explores, a
    JSON file path or text. Entries that are Lightdash ExploreErrors are skipped; every problem
    of the others is raised at once (ProjectErrors). Serve them with `project.with_explores`."""
    from metricql.project.explore_json import read_explores_json  # pydantic: load on use
    from metricql.semantic.from_lightdash import explores_from_json

    entries, _ = read_explores_json(source)
    with gc_paused():
        return explores_from_json(entries)
