"""`metricql` command line: a thin face over the public API.

Exit codes: 0 success, 2 a user error (`MetricQLError`, bad arguments; message on stderr),
1 an internal error (traceback with `--debug` or METRICQL_DEBUG=1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError
from sqlglot import exp

import metricql
from metricql.benchmark import bench_compile
from metricql.catalog import explore_outline
from metricql.cli_user import parameter_flags, parameters_from, user_flags, user_from
from metricql.errors import MetricQLError, QueryError, WarehouseError
from metricql.limits import DEFAULT_LIMITS, json_depth
from metricql.project.content import load_chart
from metricql.query.model import MetricQuery
from metricql.results.formatting import format_csv, format_grid, format_json, format_table
from metricql.warehouse.profiles import driver_version
from metricql.warehouse.relations import missing_relations, relation_checks

if TYPE_CHECKING:
    from metricql.api import Project

__all__ = ["main"]

_DEBUG_ENV = "METRICQL_DEBUG"
_MAX_SHOWN_ERRORS = 3
_RESULT_FORMATS: Mapping[str, Callable[[Any], str]] = {
    "table": format_table,
    "json": format_json,
    "csv": format_csv,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help (0) and on bad arguments (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    debug = bool(args.debug) or os.environ.get(_DEBUG_ENV, "") not in ("", "0")
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except MetricQLError as err:
        if debug:
            traceback.print_exc()
        _write(sys.stderr, _error_text(err, detail=bool(getattr(args, "error_detail", False))))
        return 2
    except BrokenPipeError:  # e.g. `metricql run … | head`: the reader left; nothing to say
        return 1
    except Exception as err:  # the top level: report, never hide, never crash with a trace
        if debug:
            traceback.print_exc()
        _write(
            sys.stderr,
            f"internal error: {type(err).__name__}: {err}\n"
            f"please report this as a metricql bug, with the output of --debug "
            f"(or {_DEBUG_ENV}=1)\n",
        )
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metricql", description="Compile and run Lightdash-style metric queries."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--error-detail", action="store_true", help=_DETAIL_HELP)
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's default must not undo `metricql --debug <command>`.
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    common.add_argument(
        "--error-detail", action="store_true", default=argparse.SUPPRESS, help=_DETAIL_HELP
    )
    common.add_argument("project", type=Path, help="dbt project folder or manifest.json")
    common.add_argument("--target", "-t", help="profile target (default: the profile's)")
    common.add_argument(
        "--source-dialect", help="dialect the YAML's SQL is written in (default: the target's)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    explores = commands.add_parser("explores", parents=[common], help="list explores, fields")
    explores.add_argument("--format", "-f", choices=("table", "json"), default="table")
    explores.set_defaults(handler=_explores)

    compile_ = commands.add_parser(
        "compile", parents=[common, user_flags(), parameter_flags()], help="print a query's SQL"
    )
    compile_.add_argument("query", type=Path, help="metric query JSON file ('-': stdin)")
    compile_.add_argument("--dialect", "-d", help="sqlglot dialect (default: the target's)")
    compile_.add_argument("--format", "-f", choices=("sql", "json"), default="sql")
    compile_.add_argument(
        "--explain", action="store_true", help="print how the query compiles, as JSON"
    )
    compile_.set_defaults(handler=_compile)

    run = commands.add_parser(
        "run", parents=[common, user_flags(), parameter_flags()], help="run a query, print its rows"
    )
    run.add_argument(
        "query", type=Path, help="metric query JSON file ('-': stdin) or a chart's YAML file"
    )
    run.add_argument(
        "--format",
        "-f",
        choices=tuple(_RESULT_FORMATS),
        default="table",
        help="table (first 100 rows, NULL as ∅), json or csv (all rows)",
    )
    run.add_argument("--limit", "-n", type=_row_limit, help="override the query's limit")
    run.add_argument("--timeout", type=_seconds, help="cancel the query after SECONDS")
    run.set_defaults(handler=_run)

    validate = commands.add_parser("validate", parents=[common], help="check the project")
    validate.add_argument(
        "--content",
        type=Path,
        help="also check charts and dashboards as code (the folder `lightdash download` "
        "wrote); exit 2 if any is broken",
    )
    validate.set_defaults(handler=_validate)

    seed = commands.add_parser("seed", parents=[common], help="load seeds/*.csv into DuckDB")
    seed.set_defaults(handler=_seed)

    check = commands.add_parser(
        "check", parents=[common], help="check primary keys and join relationships in the data"
    )
    check.add_argument("--sample", type=_row_limit, help="read only the first N rows/keys")
    check.set_defaults(handler=_check_relationships)

    debug = commands.add_parser(
        "debug", parents=[common], help="check the target: profile, driver, connection, tables"
    )
    debug.set_defaults(handler=_debug)

    _serve_parser(commands)

    bench = commands.add_parser("bench", parents=[common], help="time compiling a query")
    bench.add_argument("query", type=Path, help="metric query JSON file ('-': stdin)")
    bench.add_argument("--dialect", "-d", help="sqlglot dialect (default: the target's)")
    bench.add_argument("--runs", "-n", type=_row_limit, default=500, help="timed runs (500)")
    bench.set_defaults(handler=_bench)
    return parser


def _serve_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="serve Lightdash's query API over HTTP (needs metricql[server])"
    )
    serve.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    serve.add_argument("projects", type=Path, nargs="+", metavar="PROJECT")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (8080)")
    serve.add_argument("--tokens", type=Path, help="YAML/JSON: token → {email, attributes, …}")
    serve.add_argument("--token", help="one token with every permission (local use)")
    serve.add_argument("--project-uuid", help="uuid of the (single) project; default from name")
    serve.add_argument("--target", "-t", help="profile target (default: the profile's)")
    serve.add_argument("--content", type=Path, help="charts/dashboards as code to validate")
    serve.add_argument("--reload", action="store_true", help="reload when project files change")
    serve.add_argument("--no-access-log", action="store_true", help="no JSON access log")
    for flag, kind, default, text in _SERVE_LIMITS:
        serve.add_argument(flag, type=kind, default=default, help=f"{text} ({default})")
    serve.set_defaults(handler=_serve)


# Operational settings: flag, type, default, help (defaults mirror server.Settings).
_SERVE_LIMITS: tuple[tuple[str, Callable[[str], Any], Any, str], ...] = (
    ("--max-request-bytes", int, 1_000_000, "largest request body"),
    ("--max-limit", int, 5000, "largest query limit"),
    ("--page-size", int, 5000, "most rows per results page"),
    ("--max-queries-per-user", int, 8, "queries one user may run at once"),
    ("--query-timeout", float, 60.0, "seconds before a query times out"),
    ("--workers", int, 16, "threads running queries"),
    ("--shutdown-grace", float, 30.0, "seconds running requests get at shutdown"),
)


def _serve(args: argparse.Namespace) -> int:
    from metricql.server.jobs import Settings
    from metricql.server.run import serve

    settings = Settings(
        max_request_bytes=args.max_request_bytes,
        max_limit=args.max_limit,
        max_page_size=args.page_size,
        max_queries_per_user=args.max_queries_per_user,
        query_timeout=args.query_timeout,
        workers=args.workers,
        shutdown_grace=args.shutdown_grace,
    )
    serve(
        args.projects,
        host=args.host,
        port=args.port,
        tokens=args.tokens,
        token=args.token,
        uuid_=args.project_uuid,
        target=args.target,
        content=args.content,
        reload=args.reload,
        access_log=not args.no_access_log,
        settings=settings,
    )
    return 0


def _row_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def _explores(args: argparse.Namespace) -> int:
    project = _load(args)
    explores = [project.explores[name] for name in sorted(project.explores)]
    if args.format == "json":
        outlines = [explore_outline(e) for e in explores]
        data = {"explores": outlines, "errors": project.explore_errors()}
        _write(sys.stdout, json.dumps(data) + "\n")
        return 0
    rows = [
        [explore.name, field_id, kind, _value(field.type), field.label]
        for explore in explores
        for kind, fields in (("dimension", explore.dimensions), ("metric", explore.metrics))
        for field_id, field in fields.items()
        if not field.hidden
    ]
    rows += [
        [name, "", "error", "", _shown(project, f"{e.where.prefix}{e.message}")]
        for name, errors in sorted(project.broken_explores.items())
        for e in errors
    ]
    header = ["explore", "field", "kind", "type", "label"]
    _write(sys.stdout, format_grid(header, rows, max_width=60) + "\n")
    return 0


_DETAIL_HELP = "show the warehouse's own error message and SQL (they may quote data)"


def _compile(args: argparse.Namespace) -> int:
    query = _read_query(args.query)  # the cheap check first
    project = _load(args)
    given = _parameters(args, project)
    if args.explain:
        explanation = project.explain(query, dialect=args.dialect, user=user_from(args), **given)
        _warn(explanation.warnings)
        _write(sys.stdout, json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return 0
    user = user_from(args)
    options: dict[str, Any] = {"user": user, **given} if user is not None else given
    compiled = project.compile(query, dialect=args.dialect, **options)
    _warn(compiled.warnings)
    if args.format == "json":
        _write(sys.stdout, json.dumps(compiled.to_dict(), ensure_ascii=False) + "\n")
    else:
        _write(sys.stdout, compiled.sql.rstrip("\n") + "\n")
    return 0


def _bench(args: argparse.Namespace) -> int:
    query = _read_query(args.query)
    project, results = bench_compile(
        args.project, query, dialect=args.dialect, runs=max(1, args.runs), target=args.target
    )
    dialect = args.dialect or project.dialect
    lines = [f"{query.explore_name} · {dialect} · median and p95 over {args.runs} runs"]
    lines += [f"{t.name:<36} {t.median * 1e3:>10.3f} ms {t.p95 * 1e3:>10.3f} ms" for t in results]
    fresh, render = results[1].median, results[3].median
    lines.append(f"{'compile ÷ render':<36} {fresh / render:>10.2f}")
    _write(sys.stdout, "\n".join(lines) + "\n")
    return 0


def _run(args: argparse.Namespace) -> int:
    query = _read_query(args.query)  # the cheap check first
    user = user_from(args)
    project = _load(args)
    given = _parameters(args, project)
    if args.limit is not None:
        query = query.model_copy(update={"limit": args.limit})
    with closing(project):
        target = project.target
        if target is None or target.type == "duckdb":  # seeds load into DuckDB only
            loaded = project.ensure_seeded()
            if loaded:
                _write(sys.stderr, f"loaded seeds: {', '.join(loaded)} into {_database(project)}\n")
        options: dict[str, Any] = {"timeout": args.timeout} if args.timeout is not None else {}
        options.update(given)
        if user is not None:
            options["user"] = user
        if args.format == "csv":  # streamed: one warehouse batch in memory at a time
            with project.run(query, stream=True, **options) as streamed:
                _warn(streamed.warnings)
                for chunk in streamed.csv_chunks():
                    _write(sys.stdout, chunk)
            return 0
        result = project.run(query, **options)
    _warn(result.warnings)
    text = _RESULT_FORMATS[args.format](result)
    _write(sys.stdout, text if text.endswith("\n") else text + "\n")
    return 0


def _parameters(args: argparse.Namespace, project: Project) -> dict[str, Any]:
    """`parameters=` for the project's calls when `--param` was given, else nothing."""
    return {"parameters": parameters_from(args, project.parameters)} if args.param else {}


def _validate(args: argparse.Namespace) -> int:
    project = _load(args)
    warnings = [_shown(project, str(issue)) for issue in project.issues]
    _warn(warnings)
    errors = [_shown(project, f"{e.where.prefix}{e.message}") for e in project.errors]
    for error in errors:
        _write(sys.stdout, f"error: {error}\n")
    relations = project.relations()
    width = max((len(name) for name in relations), default=0)
    for name, (relation, origin) in relations.items():
        _write(sys.stdout, f"{name:<{width}}  reads {relation}\n{'':<{width}}    ({origin})\n")
    missing = _missing_relations(project) if args.target else 0
    count = len(project.explores)
    summary = f"project {project.name!r}, {count} explore{'s' if count != 1 else ''}"
    if missing:
        _write(sys.stdout, f"FAILED: {summary}, {missing} relation(s) missing on the target\n")
        return 2
    if errors:
        broken = len(project.broken_explores)
        _write(sys.stdout, f"FAILED: {summary}, {broken} broken, {len(errors)} error(s)\n")
        return 2
    _write(sys.stdout, f"ok: {summary}, {len(warnings)} warning(s)\n")
    if args.content is None:
        return 0
    problems = project.validate_content(args.content)
    for problem in problems:
        _write(sys.stdout, f"{problem}\n")
    _write(sys.stdout, f"content: {len(problems)} problem(s) in {args.content}\n")
    return 2 if problems else 0


def _missing_relations(project: Project) -> int:
    """With an explicit --target: every relation the explores read that the warehouse lacks,
    printed with the name metricql expected and where that name came from; their number."""
    with closing(project):
        checks = missing_relations(project.warehouse, project.explores.values())
    for check in checks:
        explore, _, table = check.used_by[0].partition(".")
        model = project.explores[explore].tables[table].original_name
        origin = project.relation_origin(model) or "the model's name"
        users = ", ".join(check.used_by)
        reason = (check.problem or "").splitlines()[0]
        _write(sys.stdout, f"missing: {check.relation} (read by {users}; named from {origin})\n"
                           f"    {reason}\n")  # fmt: skip
    return len(checks)


def _check_relationships(args: argparse.Namespace) -> int:
    project = _load(args)
    with closing(project):
        target = project.target
        if target is None or target.type == "duckdb":  # seeds load into DuckDB only
            project.ensure_seeded()
        report = project.check_relationships(sample=args.sample)
    for problem in (*report.violations, *report.skipped):
        _write(sys.stdout, f"{problem}\n")
    if not report.ok:
        _write(sys.stdout, f"FAILED: {len(report.violations)} of {report.checked} checks\n")
        return 2
    _write(sys.stdout, f"ok: {report.checked} checks hold, {len(report.skipped)} skipped\n")
    return 0


def _seed(args: argparse.Namespace) -> int:
    project = _load(args)
    tables = project.seed()
    if tables:
        _write(sys.stdout, f"loaded seeds: {', '.join(tables)} into {_database(project)}\n")
    else:
        _write(sys.stdout, f"no seeds to load in {project.root}\n")
    return 0


def _debug(args: argparse.Namespace) -> int:
    """Like `dbt debug`: one line per check, stopping at the first step that fails."""
    try:
        project = _load(args)
    except MetricQLError as err:
        return _check("project", str(err).split("\n")[0], ok=False)
    with closing(project):
        target = project.target
        if target is None:
            return _check("profile", "no profiles.yml found (project folder, ~/.dbt/, "
                          "$DBT_PROFILES_DIR)", ok=False)  # fmt: skip
        where = f" from {target.file}" if target.file else ""
        _check("profile", f"{target.profile}.{target.target} ({target.type}){where}")
        steps: list[tuple[str, Callable[[], str]]] = [
            ("driver", lambda: driver_version(target)),
            ("connection", lambda: _connection_time(project)),
        ]
        for name, step in steps:
            try:
                _check(name, step())
            except MetricQLError as err:
                return _check(name, f"{err.message} ({err.hint})" if err.hint else err.message,
                              ok=False)  # fmt: skip
        checks = relation_checks(project.warehouse, project.explores.values())
        for check in checks:
            users = ", ".join(check.used_by[:3]) + (" …" if len(check.used_by) > 3 else "")
            reason = f": {check.problem.splitlines()[0]}" if check.problem else ""
            _check("relation", f"{check.relation} ({users}){reason}", ok=check.ok)
    return 0 if all(c.ok for c in checks) else 2


def _connection_time(project: Project) -> str:
    start = time.perf_counter()
    project.warehouse.execute(exp.select(exp.Literal.number(1)).sql(project.warehouse.dialect))
    return f"opened, SELECT 1 in {(time.perf_counter() - start) * 1e3:.0f} ms"


def _check(step: str, text: str, *, ok: bool = True) -> int:
    """Print one check line; the exit code it implies (2 when it failed)."""
    _write(sys.stdout, f"{step:<11} {'ok' if ok else 'FAILED':<7} {text}\n")
    return 0 if ok else 2


def _load(args: argparse.Namespace) -> Project:
    if args.source_dialect:
        return metricql.load_project(
            args.project, target=args.target, source_dialect=args.source_dialect
        )
    return metricql.load_project(args.project, target=args.target)


def _database(project: Project) -> str:
    target = project.target
    path = target.duckdb_path if target is not None else None
    return path or "the DuckDB database"


def _read_query(path: Path) -> MetricQuery:
    """The metric query in a JSON file (or stdin for `-`), errors naming the file."""
    name = "<stdin>" if str(path) == "-" else str(path)
    if path.suffix in (".yml", ".yaml"):  # a chart as code: run its saved query
        return load_chart(path).query()
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise QueryError(
            f"cannot read the query file: {reason}",
            hint="pass the path of a metric query JSON file",
            file=name,
        ) from err
    try:
        data = json.loads(text)
    except RecursionError:
        raise QueryError("the query JSON nests too deeply", hint="flatten it", file=name) from None
    except json.JSONDecodeError as err:
        raise QueryError(
            f"not valid JSON: {err.msg} (column {err.colno})",
            hint="fix the JSON syntax at that position",
            file=name,
            line=err.lineno,
        ) from err
    if json_depth(data) > 2 * DEFAULT_LIMITS.nesting_depth + 8:  # before pydantic recurses
        raise QueryError("the query JSON nests too deeply", hint="flatten it", file=name)
    try:
        return MetricQuery.model_validate(data)
    except ValidationError as err:
        raise QueryError(
            f"not a valid metric query: {_validation_summary(err)}",
            hint="a metric query is a JSON object with exploreName, dimensions, metrics, "
            "filters, sorts and limit (Lightdash's MetricQuery)",
            file=name,
        ) from err


def _validation_summary(err: ValidationError) -> str:
    problems = err.errors(include_url=False)
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
        for e in problems[:_MAX_SHOWN_ERRORS]
    ]
    more = len(problems) - _MAX_SHOWN_ERRORS
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _error_text(err: MetricQLError, *, detail: bool = True) -> str:
    if isinstance(err, WarehouseError) and not detail:  # the driver's text may quote data
        return f"error: {err.public_message}\n  hint: rerun with --error-detail to see it\n"
    text = f"error: {err}\n"
    if isinstance(err, WarehouseError) and err.sql:
        sql = err.sql.strip().replace("\n", "\n    ")
        text += f"  sql:\n    {sql}\n"
    return text


def _shown(project: Project, text: str) -> str:
    """`text` with the project's folder left out of file paths."""
    return text.replace(f"{project.root}/", "")


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        _write(sys.stderr, f"warning: {warning}\n")


def _value(value: Any) -> Any:
    return getattr(value, "value", value)


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
    except UnicodeEncodeError:  # a non-UTF-8 console: send UTF-8 bytes rather than fail
        stream.flush()
        stream.buffer.write(text.encode("utf-8"))
    stream.flush()


if __name__ == "__main__":
    sys.exit(main())
