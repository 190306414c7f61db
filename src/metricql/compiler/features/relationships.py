"""SQL checking that the data honours the YAML: primary keys unique, joins' declared
cardinality true. One statement per check; each returns no row when the check holds, else the
most repeated key with its row count and the number of keys that break it.

    primary key:  SELECT <key>, COUNT(*) AS rows FROM <table> GROUP BY <key> HAVING COUNT(*) > 1
    "a to one b": SELECT <a's join columns>, COUNT(*) AS rows
                  FROM (SELECT DISTINCT <a's join columns> FROM <a>) AS a JOIN <b> ON <sql_on>
                  GROUP BY … HAVING COUNT(*) > 1
    both wrapped: SELECT *, COUNT(*) OVER () AS violations FROM … ORDER BY rows DESC LIMIT 1

A wrong `relationship` is what inflates metrics: when an `a` row meets several `b` rows, every
metric of `a` that is not inflation-proof (sums, counts, averages) is counted once per match.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlglot import exp

from metricql.compiler.sql.field_sql import Finalizer
from metricql.compiler.sql.names import quoted
from metricql.semantic.explore import Explore, Join, Relationship
from metricql.semantic.fields import MetricType

ROWS = "rows"
VIOLATIONS = "violations"
# Metrics a duplicated row does not change; also those a primary key cannot protect.
_SAFE = frozenset({MetricType.COUNT_DISTINCT, MetricType.MIN, MetricType.MAX})
# For each declared relationship: (from, to) pairs, as "each `from` key meets at most one `to`
# row"; "base" is the side the join is declared on, "joined" the joined table.
DIRECTIONS: Mapping[Relationship, tuple[tuple[str, str], ...]] = {
    Relationship.MANY_TO_ONE: (("base", "joined"),),
    Relationship.ONE_TO_MANY: (("joined", "base"),),
    Relationship.ONE_TO_ONE: (("base", "joined"), ("joined", "base")),
    Relationship.MANY_TO_MANY: (),
}


@dataclass(frozen=True, slots=True)
class Check:
    """One check: what it verifies, the SQL, and the metrics a violation would inflate."""

    kind: str  # "primary_key" or "relationship"
    explore: str
    table: str  # whose keys must meet at most one row
    joined: str | None  # the other table of a relationship check
    relationship: str | None
    keys: tuple[str, ...]  # result columns of the example key
    select: exp.Select
    inflates: tuple[str, ...]
    identity: tuple[str, ...]  # the same check in another explore has the same identity


@dataclass(frozen=True, slots=True)
class Skipped:
    """A relationship that cannot be checked, and why."""

    explore: str
    table: str
    reason: str


def relationship_checks(
    explore: Explore, dialect: str, sample: int | None = None
) -> Iterator[Check | Skipped]:
    """Every check of one explore: its tables' primary keys, then its joins' relationships.
    With `sample`, each reads only the first `sample` rows (or keys) of its table."""
    final = Finalizer(explore, dialect)
    for table in explore.tables.values():
        if table.primary_key:
            yield _primary_key(explore, table.name, final, sample)
    for join in explore.joins:
        if join.relationship is not None:
            yield from _join_checks(explore, join, final, sample)


def _primary_key(explore: Explore, alias: str, final: Finalizer, sample: int | None) -> Check:
    table = explore.tables[alias]
    keys = []
    for name in table.primary_key:
        dim = table.dimensions.get(name)
        tree = final.tree(dim.sql) if dim is not None else exp.column(name, table=quoted(alias))
        keys.append(exp.alias_(tree, quoted(name), copy=False))
    grouped = (
        exp.select(*keys, exp.alias_(exp.Count(this=exp.Star()), quoted(ROWS)))
        .from_(_source(table.relation, alias, None, sample))
        .group_by(*(exp.Literal.number(i + 1) for i in range(len(keys))))
        .having(exp.Count(this=exp.Star()) > 1)
    )
    return Check(
        kind="primary_key",
        explore=explore.name,
        table=alias,
        joined=None,
        relationship=None,
        keys=tuple(table.primary_key),
        select=_worst(grouped, tuple(table.primary_key)),
        inflates=_inflated(explore, alias),
        identity=("primary_key", table.original_name, *table.primary_key),
    )


def _join_checks(
    explore: Explore, join: Join, final: Finalizer, sample: int | None
) -> Iterator[Check | Skipped]:
    on = final.tree(join.on)
    aliases = {c.table for c in on.find_all(exp.Column)}
    others = aliases - {join.table}
    if len(others) != 1 or join.table not in aliases:
        yield Skipped(explore.name, join.table, "its sql_on must read this table and one other")
        return
    sides = {"base": others.pop(), "joined": join.table}
    for one, other in DIRECTIONS[join.relationship or Relationship.MANY_TO_MANY]:
        yield _to_one(explore, join, on, sides[one], sides[other], sample)


def _to_one(
    explore: Explore, join: Join, on: exp.Expr, alias: str, other: str, sample: int | None
) -> Check:
    """Each distinct join key of `alias` meets at most one row of `other`."""
    columns = list({c.name: c for c in on.find_all(exp.Column) if c.table == alias}.values())
    # aliased by the column's own identifier: its quoting (and case folding) is kept
    keys = [exp.alias_(c.copy(), c.this.copy(), copy=False) for c in columns]
    relation = explore.tables[alias].relation
    grouped = (
        exp.select(*keys, exp.alias_(exp.Count(this=exp.Star()), quoted(ROWS)))
        .from_(_source(relation, alias, keys, sample))
        .join(
            exp.alias_(explore.tables[other].relation.copy(), quoted(other), table=True),
            on=on.copy(),
            join_type="INNER",
        )
        .group_by(*(exp.Literal.number(i + 1) for i in range(len(keys))))
        .having(exp.Count(this=exp.Star()) > 1)
    )
    names = (explore.tables[alias].original_name, explore.tables[other].original_name)
    return Check(
        kind="relationship",
        explore=explore.name,
        table=alias,
        joined=other,
        relationship=join.relationship.value if join.relationship else None,
        keys=tuple(c.name for c in columns),
        select=_worst(grouped, tuple(c.name for c in columns)),
        inflates=_inflated(explore, alias),
        identity=("relationship", *names, on.sql()),
    )


def _source(
    relation: exp.Expr, alias: str, keys: list[exp.Expr] | None, sample: int | None
) -> exp.Expr:
    """`relation AS alias`; its distinct `keys` only, and the first `sample` rows, if given."""
    if keys is None and sample is None:
        return exp.alias_(relation.copy(), quoted(alias), table=True)
    items = [k.copy() for k in keys] if keys else [exp.Star()]
    inner = exp.select(*items).from_(exp.alias_(relation.copy(), quoted(alias), table=True))
    if keys:
        inner = inner.distinct()
    if sample is not None:
        inner = inner.limit(sample)
    return exp.alias_(exp.Subquery(this=inner), quoted(alias), table=True)


def _worst(grouped: exp.Select, keys: tuple[str, ...]) -> exp.Select:
    """The most repeated key of `grouped` (ties: the least key), with how many keys repeat."""
    ties = [exp.Ordered(this=exp.column(quoted(k)), nulls_first=False) for k in keys]
    return (
        exp.select(
            exp.Star(),
            exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), quoted(VIOLATIONS)),
        )
        .from_(exp.alias_(exp.Subquery(this=grouped), "repeated", table=True))
        .order_by(exp.Ordered(this=exp.column(quoted(ROWS)), desc=True), *ties)
        .limit(1)
    )


def _inflated(explore: Explore, alias: str) -> tuple[str, ...]:
    """Metrics of `alias` a duplicated row would change (sums, counts, averages …)."""
    metrics = explore.tables[alias].metrics.values()
    return tuple(sorted(m.id for m in metrics if m.is_aggregate and m.type not in _SAFE))
