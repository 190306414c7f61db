"""The aggregation split into pieces aggregated apart, then stitched on the dimensions.

Used when some metric cannot be computed in one GROUP BY over the joined rows: a metric of a
table the joins repeat (fan-out, see `plan/fanout.py`) or a sum/average_distinct (`distinct.py`).
Every piece reads the same FROM / WHERE as the plain aggregation and the joins it needs, so
every piece has the same groups, except one that INNER JOINs a table all its aggregates read
(`narrow.py`): it lacks the groups without a match, and is LEFT JOINed back. Pieces are joined
on the dimensions with NULL-safe equality (`IS NOT DISTINCT FROM`), or CROSS JOINed when there
are none. Output columns: those of the plain aggregation.

    WITH fanout_t_rows AS (SELECT [DISTINCT] d, <t's primary key>, <values>
                           FROM … JOIN (SELECT DISTINCT <columns read> FROM m) AS m … WHERE …),
         fanout_t_metrics AS (SELECT d, SUM("__value_0") AS "m" FROM fanout_t_rows GROUP BY d),
         joined_metrics AS (SELECT d, <other metrics> FROM … INNER JOIN m … GROUP BY d)
    SELECT fanout_t_metrics.d, …, fanout_t_metrics."m" AS "m", <number metrics over columns>
    FROM fanout_t_metrics LEFT JOIN joined_metrics ON fanout_t_metrics.d IS NOT DISTINCT FROM …

`fanout_t_rows` holds each row of t once per group: its DISTINCT goes when the tables that
repeat t, read deduplicated, already do. When the joins a piece keeps no longer repeat its
table (each branch of a chasm trap), the piece is a plain GROUP BY and needs no rows CTE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from metricql.compiler.plan.fanout import FanOutPlan, Route, inflation
from metricql.compiler.plan.plan import Plan
from metricql.compiler.sql import names, narrow
from metricql.compiler.sql.distinct import distinct_rows, distinct_total
from metricql.compiler.sql.field_sql import Finalizer
from metricql.compiler.sql.names import aliased
from metricql.compiler.sql.parts import Parts, take_apart
from metricql.compiler.sql.trees import copy_tree
from metricql.semantic.explore import Explore, Relationship
from metricql.semantic.fields import Metric, MetricType
from metricql.semantic.refs import marker_kind, metric_ref_id

JOINED = "joined_metrics"
# Joins that match at most one row: dropping one nothing reads leaves the rows as they are.
_SINGLE = frozenset({Relationship.MANY_TO_ONE, Relationship.ONE_TO_ONE})


def piece_name(route: Route, owner: str) -> str:
    """CTE holding a piece's metric columns (owner: the table, or the distinct metric)."""
    if route is Route.OWN_GRAIN:
        return f"fanout_{owner}_metrics"
    if route is Route.DISTINCT:
        return f"distinct_{owner}_metrics"
    return JOINED


def rows_name(route: Route, owner: str) -> str:
    """CTE holding the deduplicated rows a fan-out or distinct piece aggregates."""
    return f"{'fanout' if route is Route.OWN_GRAIN else 'distinct'}_{owner}_rows"


@dataclass(frozen=True, slots=True)
class Stitching:
    """The CTEs a split aggregation wrote, and those of them that read the joined rows."""

    ctes: tuple[str, ...] = ()
    scans: tuple[str, ...] = ()  # one per piece, in piece order
    owners: tuple[tuple[str, str], ...] = ()  # (metric id, the CTE holding its column)


@dataclass(slots=True)
class _Piece:
    name: str
    ctes: list[tuple[str, exp.Select]] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    direct: exp.Select | None = None  # aggregates the joined rows themselves
    partial: bool = False  # INNER-joined: lacks the groups its aggregates skip entirely
    counts: frozenset[str] = frozenset()  # metrics that are 0, not NULL, on an empty group


def stitched_aggregation(
    plan: Plan, plain: exp.Select, finalizer: Finalizer
) -> tuple[exp.Select, Stitching]:
    """`plain` itself, or an equivalent split select when some metric needs its own pieces;
    and the pieces' CTEs (none for `plain`)."""
    fan = plan.fanout
    if not fan.rewrites:
        return plain, Stitching()
    parts = take_apart(plain)
    metrics = plan.closure.by_id
    pieces = _pieces(plan, parts, metrics, fan, finalizer)
    pieces.sort(key=lambda p: p.partial)  # the driver has every group
    owner = {mid: p for p in pieces for mid in p.metrics}
    driver = pieces[0].name
    items = [aliased(names.column(d, driver), d) for d in parts.dimension_ids]
    for output in parts.outputs:
        mid = output.alias_or_name
        route = fan.routes.get(mid)
        value = (
            _combined(metrics[mid], metrics, fan, owner, finalizer)
            if route is not None and route.route is Route.COMBINED
            else _stitched(mid, owner[mid])
        )
        items.append(aliased(value, mid))
    joins = [
        _stitch_join(piece, parts.dimension_ids, driver) for piece in pieces[1:]
    ]  # what Select.join(join_type=…) builds, without parsing the type each time
    select = names.select_from(items, driver)
    if joins:
        select.set("joins", joins)
    ctes = [*parts.hoisted]
    for piece in pieces:
        ctes += [exp.CTE(this=b, alias=exp.TableAlias(this=names.quoted(n))) for n, b in piece.ctes]
    select.set("with_", exp.With(expressions=ctes))
    stitching = Stitching(
        ctes=tuple(name for piece in pieces for name, _ in piece.ctes),
        scans=tuple(piece.ctes[0][0] for piece in pieces),  # a piece's first CTE reads the rows
        owners=tuple((mid, piece.name) for piece in pieces for mid in piece.metrics),
    )
    return select, stitching


def _stitch_join(piece: _Piece, dimensions: Sequence[str], driver: str) -> exp.Join:
    """The piece joined on the groups: LEFT when partial, INNER, or CROSS without groups."""
    table = names.table(piece.name)
    if not dimensions:
        return exp.Join(this=table, kind="CROSS")
    on = _same_groups(dimensions, driver, piece.name)
    if piece.partial:
        return exp.Join(this=table, side="LEFT", on=on)
    return exp.Join(this=table, kind="INNER", on=on)


def _stitched(mid: str, piece: _Piece) -> exp.Expr:
    """A piece's metric column; a count is 0 where a partial piece lacks the group."""
    value: exp.Expr = names.column(mid, piece.name)
    if mid in piece.counts:
        value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
    return value


def _pieces(
    plan: Plan,
    parts: Parts,
    metrics: Mapping[str, Metric],
    fan: FanOutPlan,
    finalizer: Finalizer,
) -> list[_Piece]:
    joined = _Piece(JOINED)
    grains: dict[str, list[str]] = {}
    distinct: list[str] = []
    plain_items = {o.alias_or_name: o for o in parts.outputs}
    for mid in _needed_columns(parts, metrics, fan):
        route = fan.routes[mid].route if mid in fan.routes else Route.PLAIN
        if route is Route.OWN_GRAIN:
            grains.setdefault(metrics[mid].table, []).append(mid)
        elif route is Route.DISTINCT:
            distinct.append(mid)
        else:
            joined.metrics.append(mid)
    moved = [m for m in joined.metrics if _follows_own_grain(metrics[m], fan, grains, finalizer)]
    for mid in moved:
        grains[metrics[mid].table].append(mid)
        joined.metrics.remove(mid)
    pieces = []
    tables = [plan.explore.base_table, *(j.table for j in plan.explore.joins)]
    for table in sorted(grains, key=tables.index):
        plain = [metrics[m] for m in joined.metrics if _plain(fan, m)]
        piece = _own_grain(
            plan, parts, table, [metrics[m] for m in grains[table]], plain, finalizer
        )
        joined.metrics = [m for m in joined.metrics if m not in piece.metrics]
        pieces.append(piece)
    if joined.metrics or not (grains or distinct):
        items = [  # the plain select's own items: only this piece reads them
            plain_items[mid] if mid in plain_items else aliased(finalizer.metric(metrics[mid]), mid)
            for mid in joined.metrics
        ]
        single = {j.table for j in plan.joins if j.relationship in _SINGLE}
        last = not distinct  # no piece reads the scan after this one: it takes the originals
        dimensions = parts.dimensions if last else [copy_tree(d) for d in parts.dimensions]
        body = parts.rows(
            [*dimensions, *items], lambda join: join.alias_or_name in single, own=last
        )
        joined.direct = body
        joined.ctes.append((JOINED, names.grouped(body, len(parts.dimensions))))
        pieces.insert(0, joined)
    pieces += [_distinct(parts, metrics[m], finalizer) for m in distinct]
    _inner_joins(pieces, len(parts.dimensions))
    return pieces


def _plain(fan: FanOutPlan, mid: str) -> bool:
    route = fan.routes.get(mid)
    return route is None or route.route is Route.PLAIN


# Repeated rows cannot change these: computed over each row once as well as over the joined rows.
_PROOF = frozenset({MetricType.COUNT_DISTINCT, MetricType.MIN, MetricType.MAX})


def _follows_own_grain(
    metric: Metric, fan: FanOutPlan, grains: Mapping[str, list[str]], finalizer: Finalizer
) -> bool:
    """A count_distinct/min/max of a table that has its own piece is computed there, from
    the same (group, row) pairs: one scan of the joined rows fewer when nothing else needs it.
    Only when it reads nothing but its table (its YAML filters included)."""
    if metric.type not in _PROOF or metric.table not in grains:
        return False
    if not _plain(fan, metric.id):
        return False
    return all(c.table == metric.table for c in finalizer.metric(metric).find_all(exp.Column))


def _inner_joins(pieces: Sequence[_Piece], dimensions: int) -> None:
    """A piece aggregating the joined rows INNER JOINs the table all its aggregates read,
    while another piece keeps every group (`narrow`): the stitch LEFT JOINs it back."""
    for piece in pieces:
        complete = any(not p.partial for p in pieces if p is not piece)
        if piece.direct is None or not complete:
            continue
        items = piece.direct.expressions[dimensions:]
        join = narrow.inner_candidate(piece.direct, [i.unalias() for i in items])
        if join is not None:
            narrow.make_inner(join)
            piece.partial = True
            piece.counts = frozenset(
                i.alias_or_name for i in items if isinstance(i.unalias(), exp.Count)
            )


def _needed_columns(parts: Parts, metrics: Mapping[str, Metric], fan: FanOutPlan) -> list[str]:
    """Metric columns the pieces must produce: outputs, and what combined metrics read."""
    needed: list[str] = []

    def need(mid: str) -> None:
        route = fan.routes.get(mid)
        if route is not None and route.route is Route.COMBINED:
            for ref in sorted(metrics[mid].metric_references):
                need(ref)
        elif mid not in needed:
            needed.append(mid)

    for output in parts.outputs:
        need(output.alias_or_name)
    return needed


def _own_grain(
    plan: Plan,
    parts: Parts,
    table: str,
    metrics: Sequence[Metric],
    plain: Sequence[Metric],
    finalizer: Finalizer,
) -> _Piece:
    """Metrics of a repeated table, each of its rows counted once per group.

    The piece reads only the joins it needs (`_prune_joins`). When those no longer repeat the
    table (a chasm trap: payments alone do not repeat payments) it aggregates them directly;
    otherwise over the DISTINCT (group, primary key, values) rows.
    """
    piece = _Piece(piece_name(Route.OWN_GRAIN, table), metrics=[m.id for m in metrics])
    rows, aggregates = _table_rows(plan.explore, parts, table, metrics, finalizer)
    kept = {j.alias_or_name for j in rows.args.get("joins") or ()}
    infl = inflation(plan.explore, [j for j in plan.joins if j.table in kept])
    if table not in infl.multipliers:
        direct = rows  # built for this piece alone: reshaped in place, no copy
        direct.set("distinct", None)
        direct.set(
            "expressions",
            [
                *direct.expressions[: len(parts.dimensions)],  # the rows' own copies
                *(aliased(finalizer.metric(m), m.id) for m in metrics),
            ],
        )
        piece.ctes.append((piece.name, names.grouped(direct, len(parts.dimensions))))
        piece.direct = direct
        return piece
    wrapped = narrow.narrow_rows(
        plan.explore,
        rows,
        table,
        parts.dimensions,
        lambda t: _primary_key(plan.explore, t, finalizer),
    )
    alone = len(list(narrow.sources(rows))) == 2  # the table and one other
    if table == plan.explore.base_table or alone:  # else its unmatched rows may repeat
        aggregates += _partials(rows, wrapped, plain, piece, finalizer)
    source = rows_name(Route.OWN_GRAIN, table)
    body = names.select_from([*_dimension_columns(parts), *aggregates], source)
    piece.ctes += [(source, rows), (piece.name, names.grouped(body, len(parts.dimensions)))]
    return piece


def _partials(
    rows: exp.Select,
    wrapped: frozenset[str],
    plain: Sequence[Metric],
    piece: _Piece,
    finalizer: Finalizer,
) -> list[exp.Expr]:
    """Plain metrics of the tables `rows` reads deduplicated, computed per deduplicated row
    there and totalled here (`narrow.partial`): the plain piece then need not scan the joined
    rows again. Not repeated by the joins (plain), each such row is in `rows` once per group.
    """
    totals: list[exp.Expr] = []
    for metric in plain:
        if metric.table in wrapped and metric.is_aggregate:
            name = f"__partial_{len(totals)}"
            total = narrow.partial(rows, metric.table, finalizer.metric(metric), name)
            if total is not None:
                totals.append(aliased(total, metric.id))
                piece.metrics.append(metric.id)
    return totals


def _table_rows(
    explore: Explore, parts: Parts, table: str, metrics: Sequence[Metric], finalizer: Finalizer
) -> tuple[exp.Select, list[exp.Expr]]:
    """DISTINCT (dimensions, primary key, metric values) rows, and the aggregates over them."""
    slots: dict[exp.Expr, str] = {}  # equal values share a column
    keys = _primary_key(explore, table, finalizer)
    for i, key in enumerate(keys):
        slots.setdefault(key, f"__key_{i}")
    aggregates = []
    for metric in metrics:
        aggregate = finalizer.metric(metric)  # COUNT/SUM/AVG/MEDIAN/PERCENTILE_CONT(value)
        value = aggregate.this
        if isinstance(value, exp.Distinct):  # COUNT(DISTINCT value)
            value = value.expressions[0]
        name = slots.setdefault(value, f"__value_{len(slots) - len(keys)}")
        value.replace(names.column(name))
        aggregates.append(aliased(aggregate, metric.id))
    rows = parts.rows(
        [
            *(copy_tree(d) for d in parts.dimensions),
            *(aliased(copy_tree(e), n) for e, n in slots.items()),
        ]
    )
    rows.set("distinct", exp.Distinct())
    return rows, aggregates


def _primary_key(explore: Explore, table: str, finalizer: Finalizer) -> list[exp.Expr]:
    """Trees of a table's primary key: its dimensions of those names, else its columns."""
    found = explore.tables[table]
    keys = []
    for name in found.primary_key:
        dim = found.dimensions.get(name)
        keys.append(
            finalizer.tree(dim.sql)
            if dim is not None
            else exp.column(name, table=names.quoted(table))
        )
    return keys


def _distinct(parts: Parts, metric: Metric, finalizer: Finalizer) -> _Piece:
    piece = _Piece(piece_name(Route.DISTINCT, metric.id), metrics=[metric.id])
    marker = finalizer.metric(metric)
    assert marker_kind(marker) == "distinct"
    value = marker.expressions[0]
    rows = narrow.prune_joins(distinct_rows(parts.scan, parts.dimensions, metric, value, finalizer))
    source = rows_name(Route.DISTINCT, metric.id)
    total = aliased(distinct_total(metric), metric.id)
    body = names.select_from([*_dimension_columns(parts), total], source)
    piece.ctes += [(source, rows), (piece.name, names.grouped(body, len(parts.dimensions)))]
    return piece


def _combined(
    metric: Metric,
    metrics: Mapping[str, Metric],
    fan: FanOutPlan,
    owner: Mapping[str, _Piece],
    finalizer: Finalizer,
) -> exp.Expr:
    """A non-aggregate metric over the stitched columns of the metrics it references."""

    def swap(node: exp.Expr) -> exp.Expr:
        if marker_kind(node) != "metric":
            return node
        ref = metric_ref_id(node)
        if fan.routes[ref].route is Route.COMBINED:
            return exp.Paren(this=_combined(metrics[ref], metrics, fan, owner, finalizer))
        return _stitched(ref, owner[ref])

    return finalizer.own(copy_tree(metric.sql).transform(swap, copy=False))


def _same_groups(dimensions: Sequence[str], left: str, right: str) -> exp.Expr | None:
    if not dimensions:
        return None
    same: list[exp.Expr] = [
        exp.NullSafeEQ(this=names.column(d, left), expression=names.column(d, right))
        for d in dimensions
    ]
    condition = same[0]
    for other in same[1:]:  # left-deep, as exp.and_ builds it
        condition = exp.And(this=condition, expression=other)
    return condition


def _dimension_columns(parts: Parts) -> list[exp.Expr]:
    return [names.column(d) for d in parts.dimension_ids]
