"""Join pruning from one walk of the scan (`narrow.reads`, `kept_joins`, `Parts.rows`) keeps
exactly the joins the definition keeps: a LEFT JOIN goes when no column outside it reads
its table, repeated until nothing more goes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlglot
from sqlglot import exp

from metricql.compiler.sql import narrow
from metricql.compiler.sql.parts import take_apart

Droppable = Callable[[exp.Join], bool]


def _inside(node: exp.Expr, ancestor: exp.Expr) -> bool:
    parent = node.parent
    while parent is not None and parent is not ancestor:
        parent = parent.parent
    return parent is ancestor


def _by_definition(rows: exp.Select, droppable: Droppable) -> list[str]:
    """The kept joins' aliases, straight from the definition (every column of the tree)."""
    joins = list(rows.args.get("joins") or ())
    columns = list(rows.find_all(exp.Column))
    if any(not c.table for c in columns):
        return [j.alias_or_name for j in joins]
    changed = True
    while changed:
        changed = False
        for join in list(joins):
            if join.side != "LEFT" or join.kind or not droppable(join):
                continue
            outside = [c for c in columns if not _inside(c, join)]
            if all(c.table != join.alias_or_name for c in outside):
                joins.remove(join)
                columns = outside
                changed = True
    return [j.alias_or_name for j in joins]


SCANS = [
    # b is read only through c's ON: both go once c goes, neither while c is read
    "SELECT a.x FROM a LEFT JOIN b ON a.k = b.k LEFT JOIN c ON b.j = c.j",
    "SELECT c.y FROM a LEFT JOIN b ON a.k = b.k LEFT JOIN c ON b.j = c.j",
    "SELECT a.x FROM a LEFT JOIN b ON a.k = b.k LEFT JOIN c ON a.j = c.j WHERE b.z > 1",
    # INNER and CROSS joins stay; a column naming no table keeps every join
    "SELECT a.x FROM a INNER JOIN b ON a.k = b.k LEFT JOIN c ON a.j = c.j",
    "SELECT a.x FROM a LEFT JOIN b ON a.k = b.k CROSS JOIN bounds",
    "SELECT x FROM a LEFT JOIN b ON a.k = b.k",
    "SELECT a.x FROM a LEFT JOIN b ON a.k = b.k WHERE z = 1",
    # read inside a subquery of the WHERE, or by an aggregate
    "SELECT a.x FROM a LEFT JOIN b ON a.k = b.k WHERE a.x IN (SELECT b.q FROM q)",
    "SELECT SUM(b.v) FROM a LEFT JOIN b ON a.k = b.k LEFT JOIN c ON c.k = a.k",
]
DROPPABLE: dict[str, Droppable] = {
    "any": lambda _: True,
    "none": lambda _: False,
    "only c": lambda j: j.alias_or_name == "c",
}


@pytest.mark.parametrize("sql", SCANS)
@pytest.mark.parametrize("rule", sorted(DROPPABLE))
def test_prune_joins_keeps_what_the_definition_keeps(sql: str, rule: str) -> None:
    rows = sqlglot.parse_one(sql)
    assert isinstance(rows, exp.Select)
    expected = _by_definition(rows.copy(), DROPPABLE[rule])
    pruned = narrow.prune_joins(rows, DROPPABLE[rule])
    assert [j.alias_or_name for j in pruned.args.get("joins") or ()] == expected


@pytest.mark.parametrize("sql", SCANS)
def test_rows_over_a_scan_prune_as_the_whole_select_does(sql: str) -> None:
    """`Parts.rows`: the scan read once, the items added apart, the same joins kept;
    a copy shares no node with the scan, and the owning reader takes the scan's nodes."""
    whole = sqlglot.parse_one(sql)
    assert isinstance(whole, exp.Select)
    items = [e.copy() for e in whole.expressions]
    expected = _by_definition(whole.copy(), lambda _: True)
    plain = whole.copy().group_by("1")  # take_apart reads the GROUP BY's count
    parts = take_apart(plain)
    copied = parts.rows([i.copy() for i in items])
    assert [j.alias_or_name for j in copied.args.get("joins") or ()] == expected
    scan_nodes = {id(n) for n in parts.scan.walk()}
    assert not any(id(n) in scan_nodes for n in copied.walk())
    assert copied.sql() == narrow.prune_joins(whole.copy()).sql()
    owned = parts.rows(items, own=True)
    assert owned.sql() == copied.sql()
    assert owned.args["from_"] is parts.scan.args["from_"]
