"""Narrower joined rows for the pieces of a stitched aggregation (see `stitch.py`).

Each rewrite is exact under a condition checked here, and each makes a piece read less:
- unread joins dropped: a LEFT JOIN nothing reads keeps every row before it, so it may go
  when the piece deduplicates its rows anyway, or when it matches at most one row;
- INNER instead of LEFT: when every aggregate of a piece skips the rows where one joined
  table did not match (each aggregates a value that is NULL there), the piece may join it
  INNER; it then lacks only groups made of such rows, which the stitch LEFT JOINs back;
- deduplicated sources: a table that repeats the rows a piece counts is read as
  `SELECT DISTINCT <the columns the piece reads of it>`; when each of those columns is fixed
  by the group and the counted row, the joined rows hold each counted row once per group
  and the piece needs no DISTINCT of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp

from metricql.semantic.explore import Explore

# Aggregates that skip NULL values (COUNT(x) and COUNT(DISTINCT x) included, not COUNT(*)).
_SKIP_NULLS: tuple[type[exp.Expr], ...] = (exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Count)
# NULL whenever their operand is NULL (binary: whenever either operand is).
_STRICT_UNARY: tuple[type[exp.Expr], ...] = (exp.Paren, exp.Cast, exp.Neg)
_STRICT_BINARY: tuple[type[exp.Expr], ...] = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)


def null_without(value: exp.Expr, table: str) -> bool:
    """True when `value` is NULL on every row where `table` matched nothing."""
    if isinstance(value, exp.Column):
        return value.table == table and not value.args.get("db")
    if isinstance(value, exp.Null):
        return True
    if isinstance(value, _STRICT_UNARY):
        return null_without(value.this, table)
    if isinstance(value, _STRICT_BINARY):
        return null_without(value.this, table) or null_without(value.expression, table)
    if isinstance(value, exp.Case):
        results = [branch.args.get("true") for branch in value.args.get("ifs") or ()]
        default = value.args.get("default")
        if default is not None:
            results.append(default)
        return bool(results) and all(r is not None and null_without(r, table) for r in results)
    return False


def skips_rows_without(aggregate: exp.Expr, table: str) -> bool:
    """True when `aggregate` ignores the rows where `table` matched nothing."""
    if type(aggregate) not in _SKIP_NULLS:
        return False
    value = aggregate.this
    if isinstance(aggregate, exp.Count) and isinstance(value, exp.Distinct):
        values = value.expressions
        return len(values) == 1 and null_without(values[0], table)
    return value is not None and null_without(value, table)


def inner_candidate(select: exp.Select, aggregates: Sequence[exp.Expr]) -> exp.Join | None:
    """A LEFT JOIN of `select` every one of `aggregates` ignores the unmatched rows of."""
    joins: list[exp.Join] = list(select.args.get("joins") or ())
    for join in joins if aggregates else ():
        alias = join.alias_or_name
        if join.side != "LEFT" or join.kind or not alias:
            continue
        if all(skips_rows_without(a, alias) for a in aggregates):
            return join
    return None


def make_inner(join: exp.Join) -> None:
    """Turn a LEFT JOIN into an INNER JOIN, in place."""
    join.set("side", None)
    join.set("kind", "INNER")


def tables_read(node: exp.Expr, into: set[str]) -> set[str]:
    """Add the table of every column in `node`'s tree to `into` ("" for a column naming
    none); a plain recursive walk, far cheaper than `find_all`."""
    if isinstance(node, exp.Column):
        into.add(node.table)
        return into  # a column holds identifiers only
    for child in _children(node.args.values()):
        tables_read(child, into)
    return into


def _children(values: Iterable[object]) -> Iterator[exp.Expr]:
    """The expressions among a node's argument values (single nodes and lists of them)."""
    for value in values:
        if isinstance(value, exp.Expr):
            yield value
        elif type(value) is list:
            yield from (v for v in value if isinstance(v, exp.Expr))


@dataclass(frozen=True, slots=True)
class Reads:
    """The tables a select's columns read, outside its joins and inside each of them."""

    outside: frozenset[str]
    joins: tuple[tuple[exp.Join, frozenset[str]], ...]
    unqualified: bool  # some column names no table: it may read any

    def adding(self, items: Sequence[exp.Expr]) -> Reads:
        """These reads plus those of `items` (select items built apart from the select)."""
        found: set[str] = set()
        for item in items:
            tables_read(item, found)
        return Reads(self.outside | found, self.joins, self.unqualified or "" in found)


def reads(rows: exp.Select) -> Reads:
    """What `rows` reads, in one walk of its tree."""
    outside: set[str] = set()
    joins: list[tuple[exp.Join, frozenset[str]]] = []
    for key, value in rows.args.items():
        if key == "joins":
            joins += [(j, frozenset(tables_read(j, set()))) for j in value or ()]
            continue
        for child in _children((value,)):
            tables_read(child, outside)
    unqualified = "" in outside or any("" in t for _, t in joins)
    return Reads(frozenset(outside), tuple(joins), unqualified)


def kept_joins(
    found: Reads, droppable: Callable[[exp.Join], bool] = lambda _: True
) -> list[exp.Join]:
    """The joins of `found` that `prune_joins` keeps."""
    if found.unqualified:
        return [j for j, _ in found.joins]
    kept = list(found.joins)  # (join, tables its ON reads): joins hash their whole tree
    pruned = True
    while pruned:
        pruned = False
        for i in reversed(range(len(kept))):
            join = kept[i][0]
            if join.side != "LEFT" or join.kind or not join.alias_or_name:
                continue
            alias = join.alias_or_name
            if alias in found.outside or not droppable(join):
                continue
            if all(alias not in read for j, read in kept if j is not join):
                del kept[i]
                pruned = True
    return [j for j, _ in kept]


def prune_joins(
    rows: exp.Select, droppable: Callable[[exp.Join], bool] = lambda _: True
) -> exp.Select:
    """Drop the LEFT JOINs nothing in `rows` reads and `droppable` allows (in place).

    Such a join keeps every row before it and only repeats them: dropping it is exact when
    the rows are deduplicated afterwards (DISTINCT, or ranked per key), or when the join
    matches at most one row. It also reads far fewer rows: a chasm trap (payments and
    order_items of one order) no longer multiplies.
    """
    rows.set("joins", kept_joins(reads(rows), droppable) or None)
    return rows


def fixed_by_group(
    rows: exp.Select, dimensions: Sequence[exp.Expr], counted: str, free: Collection[str]
) -> bool:
    """True when every column `rows` reads of the `free` tables has one value per group and
    row of `counted`: it is a dimension, or an ON of `counted`'s or its own join equates it
    with a column of a table that is not free."""
    if _nested(rows):  # a subquery's columns are not the rows' own
        return False
    fixed = {d.unalias() for d in dimensions}
    equalities = [
        (mine, other, join.alias_or_name)
        for join in rows.args.get("joins") or ()
        if join.alias_or_name in free or join.alias_or_name == counted
        for left, right in _equalities(join.args.get("on"))
        for mine, other in ((left, right), (right, left))
        if mine.table in free
    ]
    grown = True
    while grown:  # a column equal to a fixed one is fixed too
        grown = False
        for mine, other, alias in equalities:
            # X's own ON holds wherever X matched (else all of X is NULL: one row);
            # the counted table's ON wherever it matched (else its values are NULL).
            holds = alias == counted or mine.table == alias
            if holds and mine not in fixed and (other.table not in free or other in fixed):
                fixed.add(mine)
                grown = True
    return all(c in fixed for c in rows.find_all(exp.Column) if c.table in free)


def _equalities(on: exp.Expr | None) -> Iterator[tuple[exp.Column, exp.Column]]:
    """Column pairs a top-level AND of `on` says are equal (parentheses looked through)."""
    if on is None:
        return
    node = on.unnest()
    if isinstance(node, exp.And):
        yield from _equalities(node.this)
        yield from _equalities(node.expression)
    elif isinstance(node, exp.EQ):
        left, right = node.this.unnest(), node.expression.unnest()
        if isinstance(left, exp.Column) and isinstance(right, exp.Column):
            yield left, right


def deduplicate_sources(
    rows: exp.Select, tables: Collection[str], keys: Mapping[str, Sequence[exp.Expr]]
) -> bool:
    """Read each of `tables` as SELECT DISTINCT of the columns `rows` reads of it (in place),
    unless those include all its `keys` (its primary key: its rows are distinct already).

    Exact for rows that are deduplicated afterwards, or whose read columns are all fixed
    (`fixed_by_group`). False, and `rows` unchanged, when some source cannot be rewritten.
    """
    columns = list(rows.find_all(exp.Column))
    if any(not c.table or c.args.get("db") for c in columns) or _nested(rows):
        return False
    found = {s.alias_or_name: s for s in sources(rows)}
    reads: dict[str, dict[str, exp.Identifier]] = {t: {} for t in tables}
    for c in columns:
        if c.table in reads:
            seen = reads[c.table].setdefault(c.name.lower(), c.this)
            if seen != c.this:  # the same name spelled two ways: leave it alone
                return False
    if any(not reads[t] or not isinstance(found.get(t), exp.Table) for t in tables):
        return False
    for t in tables:
        if _keyed(t, reads[t], keys.get(t, ())):
            continue
        source = found[t]
        alias = source.args["alias"]
        inner = exp.select(  # aliased: some engines name `t.c` "t.c", not "c"
            *(
                exp.alias_(exp.column(i.copy(), table=alias.this.copy()), i.copy(), copy=False)
                for i in reads[t].values()
            )
        ).from_(source.copy(), copy=False)
        inner.set("distinct", exp.Distinct())
        source.replace(exp.Subquery(this=inner, alias=alias.copy()))
    return True


def _keyed(table: str, reads: Mapping[str, exp.Identifier], key: Sequence[exp.Expr]) -> bool:
    """True when the columns read of `table` include every column of its primary key."""
    return bool(key) and all(
        isinstance(k, exp.Column) and k.table == table and reads.get(k.name.lower()) == k.this
        for k in key
    )


def _nested(rows: exp.Select) -> bool:
    return any(s is not rows for s in rows.find_all(exp.Select))


def sources(rows: exp.Select) -> Iterator[exp.Expr]:
    """The relations `rows` reads: FROM, then each join's."""
    from_ = rows.args.get("from_")
    if from_ is not None:
        yield from_.this
    for join in rows.args.get("joins") or ():
        yield join.this


def narrow_rows(
    explore: Explore,
    rows: exp.Select,
    table: str,
    dimensions: Sequence[exp.Expr],
    keys: Callable[[str], Sequence[exp.Expr]],
) -> frozenset[str]:
    """Read every other table of the DISTINCT `rows` of `table` deduplicated, and drop the
    DISTINCT when that already holds each row of `table` once per group (`fixed_by_group`):
    exact whatever the joins' declared relationships, given `table`'s primary key (`keys`).
    Returns the tables then read as deduplicated subqueries (none when the DISTINCT stays).

    Not when a table has a row_filter or sql_filter: every scan of those carries the filter
    in its own SELECT; nor with RIGHT or FULL joins, whose unmatched rows come from the right.
    When `table` is joined, a row it did not match may repeat: its values must be NULL then.
    """
    free = [s.alias_or_name for s in sources(rows) if s.alias_or_name != table]
    tables = explore.tables
    if any(t not in tables or tables[t].row_filter or tables[t].sql_where for t in free):
        return frozenset()
    if any(j.side in ("RIGHT", "FULL") for j in rows.args.get("joins") or ()):
        return frozenset()
    values = [e.this for e in rows.expressions[len(dimensions) :]]
    unique = (
        table == explore.base_table or all(null_without(v, table) for v in values)
    ) and fixed_by_group(rows, dimensions, table, free)
    if not deduplicate_sources(rows, free, {t: keys(t) for t in free}) or not unique:
        return frozenset()
    rows.set("distinct", None)
    return frozenset(s.alias_or_name for s in sources(rows) if isinstance(s, exp.Subquery))


# aggregate → its total over per-group partials of itself (COUNT: 0 where there are none)
_TOTALS: Mapping[type[exp.Expr], Callable[[exp.Expr], exp.Expr]] = {
    exp.Sum: lambda c: exp.Sum(this=c),
    exp.Min: lambda c: exp.Min(this=c),
    exp.Max: lambda c: exp.Max(this=c),
    exp.Count: lambda c: exp.Coalesce(this=exp.Sum(this=c), expressions=[exp.Literal.number(0)]),
}


def partial(rows: exp.Select, table: str, aggregate: exp.Expr, name: str) -> exp.Expr | None:
    """Compute `aggregate` inside `table`'s deduplicated subquery of `rows` (which then groups
    instead of DISTINCT), pass it on as column `name`, and return its total over `rows`;
    None (nothing changed) unless it is a SUM/COUNT/MIN/MAX of `table`'s columns only.

    Exact when each row of that subquery appears at most once per group in `rows`: the
    caller's part (the table is not repeated by the joins, and `rows` needs no DISTINCT).
    """
    total = _TOTALS.get(type(aggregate))
    if total is None or isinstance(aggregate.this, (exp.Distinct, exp.Star)):
        return None
    if any(c.table != table or c.args.get("db") for c in aggregate.find_all(exp.Column)):
        return None
    source = next((s for s in sources(rows) if s.alias_or_name == table), None)
    if not isinstance(source, exp.Subquery) or not isinstance(source.this, exp.Select):
        return None
    inner = source.this
    if inner.args.get("distinct"):
        inner.set("distinct", None)
        keys = [exp.Literal.number(i + 1) for i in range(len(inner.expressions))]
        inner.group_by(*keys, copy=False)
    label = exp.to_identifier(name, quoted=True)
    inner.select(exp.alias_(aggregate, label, copy=False), copy=False)
    column = exp.column(label.copy(), table=exp.to_identifier(table, quoted=True))
    rows.select(exp.alias_(column, label.copy(), copy=False), copy=False)
    return total(exp.column(label.copy()))
