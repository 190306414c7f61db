"""Table calculations: SQL and templates over the query's result columns, in dependency order."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import TokenType, exp

from metricql.compiler.features.calculation_helpers import (
    NO_PIVOT,
    RUNNING,
    UNSUPPORTED,
    OrderKey,
    PivotScope,
    rewrite_helpers,
    window,
)
from metricql.compiler.sql.names import column, safe_ratio
from metricql.errors import CompileError, QueryError, UnsupportedError
from metricql.query.model import FrameBoundary, TableCalculation, TableCalculationTemplate
from metricql.semantic.fields import BadReference, DimensionType, field_id, parse_field_ref
from metricql.semantic.parameters import parameter_name
from metricql.semantic.refs import REFERENCE, parameter_ref, parse_snippet, placeholder_index


@dataclass(frozen=True, slots=True)
class Calc:
    """A compiled table calculation: expression over result columns, its dependencies."""

    name: str
    label: str
    expression: exp.Expr
    depends_on: frozenset[str]
    type: DimensionType | None
    format: Mapping[str, object] | None
    totals: frozenset[str] = frozenset()  # metric ids whose grand total `total()` reads
    inputs: frozenset[str] = frozenset()  # the query's fields (result columns) it reads


def compile_calculations(
    calcs: Sequence[TableCalculation],
    field_ids: Sequence[str],
    sorts: Sequence[OrderKey],
    dialect: str,
    pivot: PivotScope = NO_PIVOT,
) -> list[Calc]:
    """Every calculation, validated, in an order where dependencies come first."""
    names = {c.name for c in calcs}
    for calc in calcs:
        if calc.name in field_ids:
            raise QueryError(
                f"table calculation has a name that already exists in the query: {calc.name}",
                hint="rename the table calculation",
                field=calc.name,
            )
    if len(names) != len(calcs):
        raise QueryError("two table calculations share a name", hint="give each a unique name")
    compiled = {c.name: _compile(c, set(field_ids), names, sorts, dialect, pivot) for c in calcs}
    return [compiled[n] for n in _topological(compiled)]


def _compile(
    calc: TableCalculation,
    field_ids: set[str],
    calc_names: set[str],
    sorts: Sequence[OrderKey],
    dialect: str,
    pivot: PivotScope = NO_PIVOT,
) -> Calc:
    kind = DimensionType(calc.type) if calc.type else None
    if calc.formula is not None:
        raise UnsupportedError(
            f"table calculation {calc.name!r} uses a formula, which is not supported",
            hint="write the calculation as `sql` or a `template`",
            field=calc.name,
        )
    totals: set[str] = set()
    if calc.template is not None:
        expression, deps = _template(calc.name, calc.template, field_ids, calc_names, sorts), set()
        if calc.template.field_id in calc_names:
            deps.add(calc.template.field_id)
    else:
        assert calc.sql is not None
        expression, deps = _sql(calc.name, calc.sql, field_ids, calc_names, dialect)
        expression = rewrite_helpers(calc.name, expression, sorts, totals, pivot)
    if (
        kind is None
        and calc.format
        and calc.format.get("type") in ("percent", "currency", "number")
    ):
        kind = DimensionType.NUMBER
    inputs = {c.name for c in expression.find_all(exp.Column) if not c.table} & field_ids
    return Calc(
        calc.name,
        calc.display_name or calc.name,
        expression,
        frozenset(deps),
        kind,
        calc.format,
        frozenset(totals),
        frozenset(inputs),
    )


def _reject_unsupported(name: str, sql: str, dialect: str) -> None:
    """UnsupportedError for a call of an UNSUPPORTED or pivot function.

    Read from the tokens, not the tree: dialects parse some of them as their own functions
    (DuckDB reads `list(x)` as ARRAY_AGG).
    """
    lowered = sql.lower()
    if "pivot_" not in lowered and not any(fn in lowered for fn in UNSUPPORTED):
        return  # the common case, without tokenizing
    tokens = sqlglot.tokenize(REFERENCE.sub("x", sql), read=dialect)
    for token, following in itertools.pairwise(tokens):
        fn = token.text.lower()
        if following.token_type is TokenType.L_PAREN and (
            fn in UNSUPPORTED or fn.startswith("pivot_")
        ):
            raise UnsupportedError(
                f"table calculation {name!r} uses {fn}(), which is not supported",
                hint="pivot and list functions are out of scope",
                field=name,
            )


def _sql(
    name: str, sql: str, field_ids: set[str], calc_names: set[str], dialect: str
) -> tuple[exp.Expr, set[str]]:
    try:
        snippet = parse_snippet(sql, dialect, field=name)
    except CompileError as err:
        raise QueryError(err.message, hint=err.hint, field=name) from None
    _reject_unsupported(name, sql, dialect)
    tree = snippet.tree.copy()
    deps: set[str] = set()
    for ident in list(tree.find_all(exp.Identifier)):
        index = placeholder_index(ident)
        if index is None:
            continue
        ref = snippet.refs[index]
        parameter = parameter_name(ref)  # a marker the finalizer makes a typed literal
        target = None if parameter else _target(name, ref, field_ids, calc_names)
        if target in calc_names:
            deps.add(target)
        value = parameter_ref(parameter) if parameter else column(target or "")
        parent = ident.parent
        if not isinstance(parent, exp.Column) or parent.args.get("table") is not None:
            raise QueryError(
                f"table calculation {name!r}: reference ${{{ref}}} must stand for a whole value",
                hint="write ${table.field} or ${calc_name}",
                field=name,
            )
        if parent is tree:
            tree = value
        else:
            parent.replace(value)
    return tree, deps


def _target(name: str, ref: str, field_ids: set[str], calc_names: set[str]) -> str:
    if ref == name:
        raise QueryError(
            f"table calculation {name!r} references itself",
            hint="remove ${" + ref + "}",
            field=name,
        )
    if ref in calc_names:
        return ref
    found = result_field(ref, field_ids)
    if found is not None:
        return found
    raise QueryError(
        f'table calculation {name!r} contains a reference "{ref}" to a field or table '
        "calculation that isn't included in the query",
        hint="add the field to the query's dimensions/metrics, or fix the reference",
        field=name,
    )


def result_field(ref: str, field_ids: Collection[str]) -> str | None:
    """The field id a calculation's `${ref}` names among `field_ids`: the id, or table.field."""
    if ref in field_ids:
        return ref
    if "." not in ref:
        return None
    try:
        converted = field_id(*parse_field_ref(ref, ""))
    except BadReference:
        return None
    return converted if converted in field_ids else None


def _template(
    name: str,
    t: TableCalculationTemplate,
    field_ids: set[str],
    calc_names: set[str],
    sorts: Sequence[OrderKey],
) -> exp.Expr:
    def ref(fid: str | None) -> str:
        if fid is None:
            raise QueryError(
                f"template of {name!r} needs a fieldId", hint="set fieldId", field=name
            )
        return _target(name, fid, field_ids, calc_names)

    # "previous" needs an order: the template's, else the query's sorts (never engine order)
    order: list[OrderKey] = [
        (ref(o.field_id), o.order == "desc" if o.order else None) for o in t.order_by
    ]
    order = order or list(sorts)
    partition = [ref(p) for p in t.partition_by]
    builders: dict[str, Callable[[], exp.Expr]] = {
        "percent_change_from_previous": lambda: exp.Sub(
            this=safe_ratio(
                column(ref(t.field_id)),
                window(exp.Lag(this=column(ref(t.field_id))), partition=partition, order=order),
            ),
            expression=exp.Literal.number(1),
        ),
        "percent_of_previous_value": lambda: safe_ratio(
            column(ref(t.field_id)),
            window(exp.Lag(this=column(ref(t.field_id))), partition=partition, order=order),
        ),
        "difference_from_previous": lambda: exp.Sub(
            this=column(ref(t.field_id)),
            expression=window(
                exp.Lag(this=column(ref(t.field_id))), partition=partition, order=order
            ),
        ),
        "percent_of_column_total": lambda: safe_ratio(
            column(ref(t.field_id)),
            window(exp.Sum(this=column(ref(t.field_id))), partition=partition),
        ),
        "rank_in_column": lambda: window(
            exp.Anonymous(this="RANK", expressions=[]), order=[(ref(t.field_id), False)]
        ),
        "running_total": lambda: window(
            exp.Sum(this=column(ref(t.field_id))),
            partition=partition,
            order=order,
            spec=RUNNING.copy(),
        ),
        "window_function": lambda: _window_function(name, t, ref, partition, order),
    }
    return builders[t.type]()


_WINDOW_FUNCTIONS: dict[str, Callable[[exp.Expr | None], exp.Expr]] = {
    "row_number": lambda _: exp.RowNumber(),
    "percent_rank": lambda _: exp.Anonymous(this="PERCENT_RANK", expressions=[]),
    "cume_dist": lambda _: exp.Anonymous(this="CUME_DIST", expressions=[]),
    "rank": lambda _: exp.Anonymous(this="RANK", expressions=[]),
    "sum": lambda c: exp.Sum(this=c),
    "avg": lambda c: exp.Avg(this=c),
    "count": lambda c: exp.Count(this=c if c is not None else exp.Star()),
    "min": lambda c: exp.Min(this=c),
    "max": lambda c: exp.Max(this=c),
}
_NEEDS_FIELD = {"sum", "avg", "min", "max"}


def _window_function(
    name: str,
    t: TableCalculationTemplate,
    ref: Callable[[str | None], str],
    partition: list[str],
    order: list[OrderKey],
) -> exp.Expr:
    fn = t.window_function
    if fn is None:
        raise QueryError(
            f"template of {name!r} needs windowFunction", hint="e.g. row_number", field=name
        )
    col = column(ref(t.field_id)) if t.field_id else None
    if fn in _NEEDS_FIELD and col is None:
        raise QueryError(
            f"window function {fn} of {name!r} needs a fieldId", hint="set fieldId", field=name
        )
    spec = None
    if t.frame is not None:
        spec = exp.WindowSpec(
            kind=t.frame.frame_type.upper(),
            **_bound("start", t.frame.start),
            **_bound("end", t.frame.end),
        )
    return window(_WINDOW_FUNCTIONS[fn](col), partition=partition, order=order, spec=spec)


def _bound(which: str, b: FrameBoundary | None) -> dict[str, object]:
    if b is None:
        return {which: "UNBOUNDED", f"{which}_side": "PRECEDING"}
    kind, offset = b.type, b.offset
    if kind == "current_row":
        return {which: "CURRENT ROW"}
    if kind.startswith("unbounded"):
        return {which: "UNBOUNDED", f"{which}_side": kind.split("_")[1].upper()}
    return {which: exp.Literal.number(offset or 0), f"{which}_side": kind.upper()}


def _topological(calcs: Mapping[str, Calc]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name) :], name]
            raise QueryError(
                f"Circular dependency detected in table calculation: {' → '.join(cycle)}",
                hint="break the cycle between these calculations",
                cycle=cycle,
            )
        state[name] = 1
        for dep in sorted(calcs[name].depends_on):
            visit(dep, [*path, name])
        state[name] = 2
        order.append(name)

    for name in calcs:
        visit(name, [])
    return order


def levels(calcs: Sequence[Calc]) -> list[list[Calc]]:
    """Group calculations so each level only depends on earlier levels."""
    level: dict[str, int] = {}
    for calc in calcs:  # already topologically sorted
        level[calc.name] = 1 + max((level[d] for d in calc.depends_on), default=-1)
    out: list[list[Calc]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for calc in calcs:
        out[level[calc.name]].append(calc)
    return out
