"""Raw SQL from a user with the custom-SQL permission (RunSqlQuery), made safe to run.

Only one read-only query passes: a SELECT (or UNION, WITH … SELECT) whose every table is a
named table. Refused anywhere in the tree: statements that write, change settings or run
commands (INSERT, CREATE, COPY, SET, PRAGMA, ATTACH, SELECT … INTO …), table functions
(`read_csv('/etc/passwd')`, `glob(…)`), file paths as table names (`FROM 'x.csv'`),
and functions that read the server's files or environment. The query is wrapped as
`SELECT * FROM (<query>) LIMIT n`.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from metricql.errors import ForbiddenError, QueryError

__all__ = ["read_only_query"]

_WRITES: tuple[type[exp.Expr], ...] = (
    exp.Command,
    exp.Create,
    exp.Drop,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Alter,
    exp.Set,
    exp.Pragma,
    exp.Copy,
    exp.Into,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.LoadData,
    exp.Attach,
    exp.Detach,
    exp.Install,
)
_PATH_CHARS = frozenset("./\\:")
# Functions that reach outside the warehouse's tables (files, environment, network).
_DENIED_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "read_text",
        "read_blob",
        "read_csv",
        "read_csv_auto",
        "read_json",
        "read_json_auto",
        "read_parquet",
        "parquet_scan",
        "glob",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "lo_import",
        "dblink",
        "load_file",
    }
)


def read_only_query(sql: str, dialect: str, limit: int) -> str:
    """`sql` wrapped with a LIMIT, once it is shown to be one read-only query (see above)."""
    tree = _single_statement(sql, dialect)
    for node in tree.walk():
        _check(node)
    wrapped = exp.select(exp.Star()).from_(exp.Subquery(this=tree, alias=exp.to_identifier("q")))
    return wrapped.limit(exp.Literal.number(limit)).sql(dialect)


def _single_statement(sql: str, dialect: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as err:
        raise QueryError(
            f"the SQL does not parse: {str(err).splitlines()[0] if str(err) else err}",
            hint=f"write one {dialect} SELECT statement",
        ) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ForbiddenError(
            "only a single read-only SELECT may run",
            hint="send one SELECT (WITH … SELECT and UNION are fine), without a trailing statement",
        )
    return statements[0]


def _check(node: exp.Expr) -> None:
    if isinstance(node, _WRITES):
        raise ForbiddenError(
            f"{node.key.upper()} is not allowed in read-only SQL",
            hint="only SELECT queries over the warehouse's tables may run",
        )
    if isinstance(node, exp.Table) and not _plain_name(node):
        raise ForbiddenError(
            "table functions and file paths are not allowed in read-only SQL",
            hint="select from named tables only (schema.table)",
        )
    if isinstance(node, exp.Func) and _function_name(node) in _DENIED_FUNCTIONS:
        raise ForbiddenError(
            f"function {_function_name(node)}() is not allowed in read-only SQL",
            hint="functions that read files or the environment cannot run here",
        )


def _plain_name(table: exp.Table) -> bool:
    """A named table: identifiers only, none that looks like a path (DuckDB reads `'x.csv'`)."""
    parts = [table.args.get(k) for k in ("this", "db", "catalog")]
    return isinstance(parts[0], exp.Identifier) and all(
        p is None or (isinstance(p, exp.Identifier) and _PATH_CHARS.isdisjoint(p.name))
        for p in parts
    )


def _function_name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
