"""Time grains chosen at query time (SPEC §3.3).

* `<base>_<grain>` for a date/timestamp base dimension whose YAML did not list that grain is
  synthesised on the fly, as Lightdash does: the explore seen by the plan gains the child.
* A custom granularity of lightdash.config.yml is reached the same way: `<base>_<name>`.
* A date zoom re-buckets one selected time dimension to another grain (standard or custom),
  keeping its field id; only the selected column changes, so filters still compare the
  original expression.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from metricql.errors import QueryError
from metricql.query.model import DateZoom
from metricql.semantic.explore import Explore
from metricql.semantic.fields import (
    INTERVAL_LABELS,
    INTERVAL_TYPES,
    Dimension,
    DimensionType,
)
from metricql.semantic.fields import TimeInterval as TI
from metricql.semantic.granularities import CustomGranularity, custom_child
from metricql.semantic.refs import interval_of

TIME_TYPES = frozenset({DimensionType.DATE, DimensionType.TIMESTAMP})
# Grains a query may name without the YAML listing them (`orders_ordered_at_hour`) or zoom to.
GRAINS: Mapping[str, TI] = MappingProxyType(
    {
        ti.value.lower(): ti
        for ti in (TI.SECOND, TI.MINUTE, TI.HOUR, TI.DAY, TI.WEEK, TI.MONTH, TI.QUARTER, TI.YEAR)
    }
)
_SUB_DAY = frozenset({TI.SECOND, TI.MINUTE, TI.HOUR})


def interval_child(base: Dimension, interval: TI) -> Dimension:
    """The `interval` child of the time dimension `base`, built as the YAML would have."""
    return replace(
        base,
        name=f"{base.name}_{interval.value.lower()}",
        type=INTERVAL_TYPES[interval] or base.type,
        label=f"{base.label} {INTERVAL_LABELS[interval].lower()}",
        sql=interval_of(base.sql.copy(), interval, base.type),
        time_interval=interval,
        time_interval_base=base.name,
        is_interval_base=False,
        groups=(*base.groups, base.label),
    )


def synthesised(explore: Explore, field_id: str) -> Dimension | None:
    """`<base>_<grain>` built from its base time dimension (a standard grain or a custom
    granularity of the project), or None when `field_id` is not one."""
    for name, grain in explore.custom_granularities.items():
        if field_id.endswith(f"_{name}"):
            base = _raw_time(explore, field_id[: -len(name) - 1])
            if base is not None:
                return custom_child(base, grain)
    prefix, _, name = field_id.rpartition("_")
    interval, base = GRAINS.get(name), _raw_time(explore, prefix)
    return interval_child(base, interval) if interval is not None and base is not None else None


def _raw_time(explore: Explore, field_id: str) -> Dimension | None:
    """The date or timestamp dimension `field_id` when it is not itself an interval."""
    base = explore.dimensions.get(field_id)
    if base is None or base.time_interval is not None or base.type not in TIME_TYPES:
        return None
    return base


def with_synthesised(explore: Explore, field_ids: Iterable[str]) -> Explore:
    """`explore` plus the synthesised intervals among `field_ids` (itself when none)."""
    extra = {
        fid: dim
        for fid in field_ids
        if fid not in explore.dimensions and (dim := synthesised(explore, fid)) is not None
    }
    if not extra:
        return explore
    return replace(explore, dimensions=MappingProxyType({**explore.dimensions, **extra}))


def zoom_grain(explore: Explore, zoom: DateZoom) -> TI | CustomGranularity:
    """The grain a date zoom asks for ('Month', 'month', a custom granularity's name)."""
    interval = GRAINS.get(zoom.granularity.lower())
    custom = explore.custom_granularities.get(zoom.granularity)
    if interval is None and custom is None:
        names = [*(g.title() for g in GRAINS), *explore.custom_granularities]
        raise QueryError(
            f"dateZoom granularity {zoom.granularity!r} is not a time grain",
            hint=f"use one of: {', '.join(names)}",
            field="dateZoom.granularity",
        )
    if interval is not None:
        return interval
    assert custom is not None
    return custom


def zoomed(
    explore: Explore, dimensions: Sequence[Dimension], zoom: DateZoom | None
) -> tuple[Dimension, ...]:
    """`dimensions` with the zoomed one re-bucketed (same id); unchanged without a zoom."""
    if zoom is None:
        return tuple(dimensions)
    grain = zoom_grain(explore, zoom)
    at = _zoom_target(dimensions, zoom)
    if at is None:  # a dashboard zooms every tile; a tile without a date keeps its grain
        return tuple(dimensions)
    dim = dimensions[at]
    base = _time_base(explore, dim)
    if isinstance(grain, CustomGranularity):
        child = custom_child(base, grain)
    elif base.type is DimensionType.DATE and grain in _SUB_DAY:  # a date has no hours
        return tuple(dimensions)
    else:
        child = interval_child(base, grain)
    zoomed_dim = replace(child, name=dim.name, label=dim.label)
    return (*dimensions[:at], zoomed_dim, *dimensions[at + 1 :])


def _zoom_target(dimensions: Sequence[Dimension], zoom: DateZoom) -> int | None:
    """Index of the dimension to zoom: `xAxisFieldId`, else the first date or timestamp."""
    if zoom.x_axis_field_id is None:
        return next((i for i, d in enumerate(dimensions) if d.type in TIME_TYPES), None)
    for i, dim in enumerate(dimensions):
        if dim.id == zoom.x_axis_field_id:
            if dim.type in TIME_TYPES:
                return i
            raise QueryError(
                f"dateZoom xAxisFieldId {dim.id!r} is a {dim.type.value} dimension, not a date",
                hint="zoom a date or timestamp dimension",
                field=dim.id,
            )
    raise QueryError(
        f"dateZoom xAxisFieldId {zoom.x_axis_field_id!r} is not a selected dimension",
        hint="select it, or leave xAxisFieldId out to zoom the first date dimension",
        field=zoom.x_axis_field_id,
    )


def _time_base(explore: Explore, dim: Dimension) -> Dimension:
    """The raw time dimension `dim` is an interval of (or `dim` itself)."""
    if dim.time_interval_base is None:
        return dim
    return explore.dimensions.get(f"{dim.table}_{dim.time_interval_base}", dim)
