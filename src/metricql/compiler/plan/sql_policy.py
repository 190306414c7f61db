"""The custom-SQL policy: what a query author's SQL snippet may contain, kept as data.

A query author's snippet (custom SQL dimension, additional metric `sql`, table calculation `sql`)
is an *expression over the explore's fields*: after parsing, every node must be one of the
allowed structural kinds or an allowed function of its context, and every column must be a
`${table.field}` (or `${calculation}`) reference. No subquery, set operation, table reference or
table function can appear at any depth: none of them is on the lists, and the walk visits every
node. The lists are allow-lists, so a construct sqlglot learns tomorrow is refused until added.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType

from sqlglot import exp

from metricql.errors import SqlPolicyError
from metricql.semantic.refs import Snippet, placeholder_index


def _classes(names: str) -> frozenset[type[exp.Expr]]:
    """sqlglot node classes by name; names this sqlglot lacks are skipped (version drift)."""
    found = (getattr(exp, n, None) for n in names.split())
    return frozenset(c for c in found if isinstance(c, type))


# Structure every context may use: references, literals, operators, CASE, CAST, IN-lists.
_STRUCTURE = _classes(
    "Column Identifier Literal Null Boolean Paren Neg Not Add Sub Mul Div IntDiv Mod "
    "EQ NEQ GT GTE LT LTE NullSafeEQ NullSafeNEQ And Or Is In Between Like ILike DPipe "
    "DataType DataTypeParam Var Interval Star Distinct"
)
_WINDOW_STRUCTURE = _classes("Window WindowSpec Order Ordered")

# Functions by sqlglot class name (a dialect's spelling parses into the same class). None
# that can make a value grow without bound (repeat, lpad): one row must stay small.
_SCALAR = _classes(
    "Abs Round Floor Ceil Sqrt Pow Ln Log Exp Sign Trunc Coalesce Nullif Greatest Least If Case "
    "Cast TryCast Concat ConcatWs Lower Upper Trim Length Substring Left Right Replace "
    "StrPosition Chr Initcap TimestampTrunc DateTrunc Extract DateAdd DateSub DateDiff "
    "TimestampAdd "
    "TimestampSub TimestampDiff CurrentDate CurrentTimestamp Year Month Day Quarter Week "
    "DayOfWeek DayOfMonth DayOfYear SafeDivide TimeToStr StrToDate StrToTime TimeToUnix Date"
)
_AGGREGATE = _classes(
    "Sum Avg Count Min Max CountIf ApproxDistinct Stddev StddevPop StddevSamp Variance "
    "VariancePop Median PercentileCont PercentileDisc AnyValue LogicalAnd LogicalOr"
)
_WINDOW = _classes(
    "RowNumber Rank DenseRank PercentRank CumeDist Ntile Lag Lead FirstValue LastValue NthValue"
)
# Functions allowed by lower-case name (sqlglot may leave them unparsed: exp.Anonymous).
_CALCULATION_HELPERS = frozenset({"row", "total", "row_total", "offset", "index"})
DIALECT_FUNCTIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "bigquery": frozenset({"safe_divide", "div"}),
        "snowflake": frozenset({"div0", "zeroifnull", "nullifzero"}),
        "databricks": frozenset({"try_divide"}),
    }
)

CONTEXTS: Mapping[str, tuple[frozenset[type[exp.Expr]], frozenset[str]]] = MappingProxyType(
    {
        "custom dimension": (_STRUCTURE | _SCALAR, frozenset()),
        "additional metric": (_STRUCTURE | _SCALAR, frozenset()),
        "table calculation": (
            _STRUCTURE | _WINDOW_STRUCTURE | _SCALAR | _AGGREGATE | _WINDOW,
            _CALCULATION_HELPERS,
        ),
    }
)
"""Per context: allowed node classes (structure and functions) and allowed unparsed names."""

# CAST targets: plain scalar types only (a JSON, spatial or other extension type can make
# DuckDB install an extension from the network).
_TYPE_NAMES = (
    "TEXT VARCHAR CHAR NCHAR NVARCHAR BOOLEAN TINYINT SMALLINT INT BIGINT HUGEINT UTINYINT "
    "USMALLINT UINT UBIGINT DECIMAL DOUBLE FLOAT DATE TIMESTAMP TIMESTAMPTZ DATETIME"
)
_TYPES = frozenset(
    getattr(exp.DataType.Type, t) for t in _TYPE_NAMES.split() if hasattr(exp.DataType.Type, t)
)

_FORBIDDEN: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.SetOperation, "a set operation"),
    (exp.Query, "a subquery"),
    (exp.Subquery, "a subquery"),
    (exp.Table, "a table reference"),
    (exp.UDTF, "a table function"),
    (exp.Unnest, "a table function"),
)


def check_snippet(
    snippet: Snippet,
    context: str,
    *,
    owner: str,
    dialect: str,
    extra_functions: Collection[str] = (),
) -> None:
    """SqlPolicyError unless `snippet` (parsed, references still placeholders) obeys the policy."""
    classes, names = CONTEXTS[context]
    names = (
        names | DIALECT_FUNCTIONS.get(dialect, frozenset()) | {f.lower() for f in extra_functions}
    )
    for node in snippet.tree.walk():
        why = _refusal(node, snippet, classes, names)
        if why is not None:
            raise SqlPolicyError(
                f"{context} {owner!r}: custom SQL may not contain {why}",
                hint="custom SQL is an expression over the explore's fields: reference them as "
                "${table.field}; no subqueries, tables or unlisted functions",
                field=owner,
            )


def _refusal(
    node: exp.Expr, snippet: Snippet, classes: frozenset[type[exp.Expr]], names: frozenset[str]
) -> str | None:
    """Why `node` is refused, or None when it is allowed."""
    for kind, what in _FORBIDDEN:
        if isinstance(node, kind):
            return what
    if isinstance(node, exp.Column):
        return _column_refusal(node, snippet)
    if isinstance(node, exp.DataType) and node.this not in _TYPES:
        return f"the type {node.sql()}"
    if type(node) in classes:
        return None
    if isinstance(node, exp.Func):
        name = str(node.this if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        return None if name in names else f"the function {name}()"
    return f"the construct {type(node).__name__}"


def _column_refusal(node: exp.Column, snippet: Snippet) -> str | None:
    """Columns are `${reference}` placeholders only: no raw columns, no `${TABLE}.column`."""
    table = node.args.get("table")
    if isinstance(table, exp.Identifier) and placeholder_index(table) is not None:
        return "${TABLE}.column; reference fields as ${table.field}"
    index = placeholder_index(node.this) if isinstance(node.this, exp.Identifier) else None
    if table is not None or index is None:
        return f"the raw column {node.sql()!r}; reference fields as ${{table.field}}"
    if snippet.refs[index].strip().upper() == "TABLE":
        return "${TABLE}; reference fields as ${table.field}"
    return None
