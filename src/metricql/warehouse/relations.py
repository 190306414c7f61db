"""Does every relation the explores read exist on the warehouse, and can it be read?

Each distinct relation (a table, or a `sql_from` subquery) is probed once with
`SELECT 1 FROM <relation> WHERE 1 = 0` in the warehouse's dialect: it reads no rows, works
on every engine, and fails just as a query would (missing table, no permission, bad SQL).
`metricql debug` prints one line per relation; `validate --target` reports the failures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from metricql.errors import MetricQLError, WarehouseError
from metricql.semantic.explore import Explore
from metricql.warehouse.base import TableName, Warehouse

__all__ = ["RelationCheck", "missing_relations", "relation_checks", "unreadable_tables"]


@dataclass(frozen=True, slots=True)
class RelationCheck:
    """One relation, which explore tables read it, and why it cannot be read (None: it can)."""

    relation: str
    used_by: tuple[str, ...]  # "explore.table" for each explore table reading it
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the relation can be read."""
        return self.problem is None


def relation_checks(warehouse: Warehouse, explores: Iterable[Explore]) -> list[RelationCheck]:
    """One check per distinct relation of the explores' base and joined tables, in order."""
    users: dict[str, list[str]] = {}
    trees: dict[str, exp.Expr] = {}
    for explore in explores:
        for name, table in explore.tables.items():
            key = table.relation.sql(dialect=warehouse.dialect)
            trees.setdefault(key, table.relation)
            users.setdefault(key, []).append(f"{explore.name}.{name}")
    return [
        RelationCheck(key, tuple(users[key]), _problem(warehouse, tree))
        for key, tree in trees.items()
    ]


def missing_relations(warehouse: Warehouse, explores: Iterable[Explore]) -> list[RelationCheck]:
    """The checks of relations that cannot be read (empty when all exist)."""
    return [check for check in relation_checks(warehouse, explores) if not check.ok]


def unreadable_tables(warehouse: Warehouse, names: Sequence[TableName]) -> list[TableName]:
    """Those of `(schema, table)` names the warehouse cannot read; order kept, no duplicates."""
    return [
        name
        for name in dict.fromkeys(names)
        if _problem(warehouse, exp.table_(name[1], db=name[0], quoted=True)) is not None
    ]


def _problem(warehouse: Warehouse, relation: exp.Expr) -> str | None:
    source = relation.copy()
    if isinstance(source, exp.Subquery) and not source.alias:  # PostgreSQL < 16 needs one
        source.set("alias", exp.TableAlias(this=exp.to_identifier("probe")))
    never = exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0))
    probe = exp.select(exp.Literal.number(1)).from_(source).where(never)
    try:
        warehouse.execute(probe.sql(dialect=warehouse.dialect))
    except WarehouseError as err:
        return err.message
    except MetricQLError as err:  # e.g. a driver missing: every relation shares the problem
        return str(err)
    return None
