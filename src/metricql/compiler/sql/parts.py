"""The plain aggregation taken apart for a stitched aggregation (`stitch.py`): its scan
(FROM, joins, WHERE) read once for the tables each part reads, and each piece's rows built
over a copy of only the joins it keeps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from metricql.compiler.sql import narrow
from metricql.compiler.sql.trees import copy_tree


@dataclass(frozen=True, slots=True)
class Parts:
    """The plain aggregation taken apart: what every piece is built from."""

    scan: exp.Select  # FROM, joins, WHERE: no select list, no GROUP BY
    dimensions: tuple[exp.Expr, ...]  # grouped select items, aliased by id
    outputs: tuple[exp.Expr, ...]  # the other select items (metrics), aliased by id
    hoisted: tuple[exp.Expr, ...]  # CTEs the scan reads (custom bin bounds)
    reads: narrow.Reads  # what the scan reads, outside its joins and in each

    def rows(
        self,
        items: Sequence[exp.Expr],
        droppable: Callable[[exp.Join], bool] = lambda _: True,
        *,
        own: bool = False,
    ) -> exp.Select:
        """A select of `items` (fresh, its own) over a copy of the scan, without the LEFT
        JOINs nothing reads (`narrow.prune_joins`): only the kept joins are copied. `own`:
        the last reader of the scan takes its nodes instead of copies."""
        kept = narrow.kept_joins(self.reads.adding(items), droppable)
        if own:
            args = dict(self.scan.args, joins=kept or None, expressions=list(items))
            return exp.Select(**args)
        args = {}
        for key, value in self.scan.args.items():
            if key == "joins":
                value = [copy_tree(j) for j in kept] or None
            elif isinstance(value, exp.Expr):
                value = copy_tree(value)
            elif type(value) is list:
                value = [copy_tree(v) if isinstance(v, exp.Expr) else v for v in value]
            args[key] = value
        args["expressions"] = list(items)
        return exp.Select(**args)

    @property
    def dimension_ids(self) -> list[str]:
        return [d.alias_or_name for d in self.dimensions]


def take_apart(plain: exp.Select) -> Parts:
    """Take the plain select apart (it is ours and replaced by the split: no copies needed)."""
    group = plain.args.get("group")
    count = len(group.expressions) if group else 0
    items = list(plain.expressions)
    hoisted = plain.args.get("with_")
    ctes = tuple(hoisted.expressions) if hoisted else ()
    for key in ("with_", "group"):
        plain.set(key, None)
    plain.set("expressions", [])
    return Parts(
        scan=plain,
        dimensions=tuple(items[:count]),
        outputs=tuple(items[count:]),
        hoisted=ctes,
        reads=narrow.reads(plain),
    )
