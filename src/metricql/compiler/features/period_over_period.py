"""Period-over-period metrics (Lightdash `additionalMetrics` with `generationType:
periodOverPeriod`): a base metric's value for the same row, its period shifted back.

    WITH mq_current  AS (the query, without its PoP metrics),
         mq_previous AS (the same dimensions and the base metrics, time filters dropped)
    SELECT mq_current.*, mq_previous.<base> AS <pop id>
    FROM mq_current LEFT JOIN mq_previous
      ON mq_current.<time> = mq_previous.<time> + INTERVAL <offset> <granularity>
     AND mq_current.<d> IS NOT DISTINCT FROM mq_previous.<d>   -- every other column
    ORDER BY … LIMIT …

A join on the shifted period, not a LAG: a period missing from the data gives NULL instead of
the value of whatever row came before. The previous side drops the filters on the comparison
time dimension (it must read the earlier periods the filter excludes) and keeps the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from sqlglot import exp

from metricql.compiler.compiled import CompiledField, CompiledQuery
from metricql.errors import QueryError, UnknownFieldError, UnsupportedError
from metricql.query.model import (
    AdditionalMetric,
    FilterGroup,
    FilterRule,
    Filters,
    MetricQuery,
    OrGroup,
    SortField,
)
from metricql.semantic.explore import Explore
from metricql.semantic.fields import FieldKind, friendly_name

KIND = "periodOverPeriod"
GRANULARITIES: Mapping[str, str] = MappingProxyType(
    {"DAY": "DAY", "WEEK": "WEEK", "MONTH": "MONTH", "QUARTER": "QUARTER", "YEAR": "YEAR"}
)
Compile = Callable[[MetricQuery], CompiledQuery]


@dataclass(frozen=True, slots=True)
class _Pop:
    """One period-over-period metric, checked against its query."""

    id: str
    label: str
    base: str  # base metric id
    time: str  # the selected time dimension it shifts
    unit: str
    offset: int


def has_period_over_period(query: MetricQuery) -> bool:
    """Whether the query asks for any period-over-period metric."""
    return any(m.generation_type == KIND for m in query.additional_metrics)


def compile_period_over_period(
    explore: Explore, query: MetricQuery, compile_: Compile
) -> CompiledQuery:
    """The query's SQL with each period-over-period metric joined from its shifted period."""
    pops = [_pop(explore, query, m) for m in query.additional_metrics if m.generation_type == KIND]
    _reject_combinations(query, {p.id for p in pops})
    current = compile_(_current(query, pops))
    previous = {
        key: compile_(_previous(explore, query, group)) for key, group in _by_shift(pops).items()
    }
    tree = _joined(current, previous, _by_shift(pops), query)
    fields = (*current.fields, *(_field(explore, current, p) for p in pops))
    used = {
        **current.parameters,
        **{k: v for c in previous.values() for k, v in c.parameters.items()},
    }
    sql = tree.sql(dialect=current.dialect)
    return replace(current, sql=sql, tree=tree, fields=fields, parameters=MappingProxyType(used))


def _pop(explore: Explore, query: MetricQuery, m: AdditionalMetric) -> _Pop:
    fid = f"{m.table}_{m.name}"
    base = m.base_metric_id
    if not base or base not in explore.metrics:
        raise UnknownFieldError(
            f"period-over-period metric {fid!r} compares {base!r}, which is not a metric of "
            f"explore {explore.name!r}",
            hint="baseMetricId names a metric of the explore by field id",
            field=fid,
        )
    unit = GRANULARITIES.get(str(m.granularity or "").upper())
    if unit is None:
        raise QueryError(
            f"period-over-period metric {fid!r} has granularity {m.granularity!r}",
            hint=f"use one of: {', '.join(GRANULARITIES)}",
            field=fid,
        )
    time = m.time_dimension_id or ""
    if time not in query.dimensions:
        raise QueryError(
            f'Period comparison time dimension "{time}" must be selected in the query',
            hint=f"add {time!r} to the query's dimensions",
            field=fid,
        )
    offset = 1 if m.period_offset is None else m.period_offset
    if offset < 1:
        raise QueryError(
            f"period-over-period metric {fid!r} needs a periodOffset of at least 1",
            hint="periodOffset counts periods back, e.g. 1",
            field=fid,
        )
    label = m.label or f"{friendly_name(m.name)}"
    return _Pop(fid, label, base, time, unit, offset)


def _reject_combinations(query: MetricQuery, ids: set[str]) -> None:
    if query.table_calculations:
        raise UnsupportedError(
            "table calculations together with period-over-period metrics are not supported",
            hint="run the comparison without table calculations",
            feature="periodOverPeriod",
        )
    filtered = {r.target.field_id for r in _rules(query.filters.metrics)}
    if filtered & ids:
        raise UnsupportedError(
            "filtering a period-over-period metric is not supported",
            hint="filter the base metric instead",
            feature="periodOverPeriod",
        )


def _rules(group: FilterGroup | None) -> list[FilterRule]:
    return list(group.rules()) if group is not None else []


def _current(query: MetricQuery, pops: Sequence[_Pop]) -> MetricQuery:
    ids = {p.id for p in pops}
    bases = [p.base for p in pops if p.base not in query.metrics]
    return query.model_copy(
        update={
            "metrics": (*(m for m in query.metrics if m not in ids), *dict.fromkeys(bases)),
            "additional_metrics": tuple(
                m for m in query.additional_metrics if m.generation_type != KIND
            ),
            "sorts": (),
            "limit": None,
        }
    )


def _by_shift(pops: Sequence[_Pop]) -> dict[tuple[str, str, int], list[_Pop]]:
    groups: dict[tuple[str, str, int], list[_Pop]] = {}
    for p in pops:
        groups.setdefault((p.time, p.unit, p.offset), []).append(p)
    return groups


def _previous(explore: Explore, query: MetricQuery, pops: Sequence[_Pop]) -> MetricQuery:
    time = explore.dimensions[pops[0].time]
    base = time.time_interval_base or time.name
    family = {
        fid
        for fid, d in explore.dimensions.items()
        if d.table == time.table and (d.time_interval_base or d.name) == base
    }
    dims = query.filters.dimensions
    kept = _without(dims, family) if dims is not None else None
    return query.model_copy(
        update={
            "metrics": tuple(dict.fromkeys(p.base for p in pops)),
            "additional_metrics": (),
            "filters": Filters(dimensions=kept),
            "table_calculations": (),
            "sorts": (),
            "limit": None,
        }
    )


def _without(group: FilterGroup, family: set[str]) -> FilterGroup | None:
    """`group` with the rules on `family` taken as TRUE; None when it becomes always true."""
    kept: list[FilterRule | FilterGroup] = []
    for item in group.children:
        if isinstance(item, FilterRule):
            dropped = item.target.field_id in family
            inner: FilterRule | FilterGroup | None = None if dropped else item
        else:
            inner = _without(item, family)
        if inner is None and isinstance(group, OrGroup):
            return None  # one TRUE branch makes the whole OR true
        if inner is not None:
            kept.append(inner)
    if not kept:
        return None
    return group.model_copy(update={group._items: tuple(kept)})


def _joined(
    current: CompiledQuery,
    previous: Mapping[tuple[str, str, int], CompiledQuery],
    groups: Mapping[tuple[str, str, int], list[_Pop]],
    query: MetricQuery,
) -> exp.Expr:
    keys = [f.id for f in current.fields if f.kind is not FieldKind.METRIC]
    select = exp.select(*(exp.column(f.id, "mq_current", quoted=True) for f in current.fields))
    select = select.from_("mq_current").with_("mq_current", as_=current.tree)
    for n, (shift, compiled) in enumerate(previous.items()):
        alias = f"mq_previous_{n}"
        select = select.with_(alias, as_=compiled.tree)
        select = select.join(exp.to_table(alias), on=_on(keys, shift, alias), join_type="left")
        for p in groups[shift]:
            select = select.select(
                exp.alias_(exp.column(p.base, alias, quoted=True), p.id, quoted=True)
            )
    visible = {f.id for f in current.fields} | {p.id for g in groups.values() for p in g}
    sorts = query.sorts or (SortField(field_id=next(iter(groups))[0], descending=True),)
    for sort in sorts:
        if sort.field_id not in visible:
            raise QueryError(
                f"cannot sort by {sort.field_id!r}: it is not selected by the query",
                hint="add it to dimensions/metrics or remove the sort",
                field=sort.field_id,
            )
        select = select.order_by(
            exp.Ordered(
                this=exp.column(sort.field_id, quoted=True),
                desc=sort.descending,
                nulls_first=bool(sort.nulls_first),
            )
        )
    return select.limit(query.limit) if query.limit is not None else select


def _on(keys: Sequence[str], shift: tuple[str, str, int], alias: str) -> exp.Expr:
    time, unit, offset = shift
    parts: list[exp.Expr] = []
    for key in keys:
        now = exp.column(key, "mq_current", quoted=True)
        before = exp.column(key, alias, quoted=True)
        if key == time:
            shifted = exp.DateAdd(
                this=before, expression=exp.Literal.number(offset), unit=exp.Var(this=unit)
            )
            parts.append(exp.EQ(this=now, expression=shifted))
        else:
            parts.append(exp.NullSafeEQ(this=now, expression=before))
    return exp.and_(*parts)


def _field(explore: Explore, current: CompiledQuery, pop: _Pop) -> CompiledField:
    base = next(f for f in current.fields if f.id == pop.base)
    return replace(base, id=pop.id, label=pop.label, kind=FieldKind.METRIC)
