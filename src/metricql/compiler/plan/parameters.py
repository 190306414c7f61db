"""Parameter tokens in filter values: `${lightdash.parameters.x}` as a whole value takes the
parameter's value (each of them for a `multiple` one), as Lightdash fills dashboard filters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from metricql.errors import QueryError
from metricql.query.model import FilterGroup, FilterRule, Filters, MetricQuery, rules
from metricql.semantic.explore import Explore
from metricql.semantic.parameters import parameter_name, parameter_value

_TOKEN = re.compile(r"\$\{\s*((?:lightdash|ld)\.parameters\.[A-Za-z0-9_.]+)\s*\}")


def with_parameter_values(
    query: MetricQuery, explore: Explore, supplied: Mapping[str, Any]
) -> tuple[MetricQuery, dict[str, Any]]:
    """The query with each parameter token in a filter value replaced, and the values used."""
    f = query.filters
    groups = (f.dimensions, f.metrics, f.table_calculations)
    if not any(_TOKEN.search(v) for g in groups for r in rules(g) for v in _texts(r)):
        return query, {}
    used: dict[str, Any] = {}

    def change(rule: FilterRule) -> FilterRule:
        values: list[Any] = []
        for value in rule.values:
            whole = _TOKEN.fullmatch(value.strip()) if isinstance(value, str) else None
            if whole is None:
                if isinstance(value, str) and _TOKEN.search(value):
                    raise QueryError(
                        f"filter value {value!r} mixes a parameter with other text",
                        hint="a parameter must be the whole filter value",
                        field=rule.target.field_id,
                    )
                values.append(value)
                continue
            name = parameter_name(whole.group(1)) or ""
            definition = explore.parameters.get(name)
            if definition is None:
                raise QueryError(
                    f"filter value {value!r} names parameter {name!r}, which explore "
                    f"{explore.name!r} does not define",
                    hint=f"parameters: {', '.join(sorted(explore.parameters)) or 'none'}",
                    parameter=name,
                )
            used[name] = parameter_value(definition, supplied)
            got = used[name]
            values.extend(got if isinstance(got, tuple) else (got,))
        return rule.model_copy(update={"values": tuple(values)})

    def changed(group: FilterGroup | None) -> FilterGroup | None:
        return group.map_rules(change) if group is not None else None

    filters = Filters(
        dimensions=changed(f.dimensions),
        metrics=changed(f.metrics),
        table_calculations=changed(f.table_calculations),
    )
    return query.model_copy(update={"filters": filters}), used


def _texts(rule: FilterRule) -> list[str]:
    return [v for v in rule.values if isinstance(v, str)]
