"""A bounded, thread-safe cache of compiled queries, keyed by everything the SQL depends on."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from metricql.compiler.compiled import CompiledQuery
from metricql.compiler.options import CompileOptions
from metricql.compiler.sql.filters import CLOCK_OPERATORS
from metricql.query.model import FilterOperator, FilterRule, MetricQuery, rules
from metricql.semantic.explore import Explore


class CompileCache:
    """LRU of CompiledQuery by (explore, query, dialect, user, options)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, CompiledQuery] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compile(
        self, key: Hashable | None, build: Callable[[], CompiledQuery]
    ) -> CompiledQuery:
        """The cached entry for `key`, else `build()` (stored unless key is None)."""
        if key is None or self.size <= 0:
            return build()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
        compiled = build()
        with self._lock:
            self._entries[key] = compiled
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return compiled

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def cache_key(explore: Explore, query: MetricQuery, options: CompileOptions) -> Hashable | None:
    """A key naming everything the SQL depends on, or None when it must not be cached."""
    if options.now is None and uses_clock(explore, query):
        return None
    try:
        hash(query)
        query_key: Hashable = query
    except TypeError:  # dict-valued extras (formats, metadata): fall back to the JSON form
        query_key = query.model_dump_json()
    return (explore.name, id(explore), query_key, options.key())


def uses_clock(explore: Explore, query: MetricQuery, *, filters: bool = True) -> bool:
    """True when the SQL depends on the clock (a relative-date filter anywhere).

    `filters=False` skips the query's own filter rules (for a caller that walked them)."""
    groups = (query.filters.dimensions, query.filters.metrics, query.filters.table_calculations)
    if filters and any(r.operator in CLOCK_OPERATORS for g in groups for r in rules(g)):
        return True
    if any(_relative(m.filters) for m in query.additional_metrics):
        return True
    names = [*query.metrics, *(r.target.field_id for r in rules(query.filters.metrics))]
    operators = explore.metric_filter_operators  # precomputed: no walk of the metrics
    if any(operators.get(n, _NONE) & CLOCK_OPERATORS for n in names):
        return True
    return _relative(r for r in explore.default_filters if r.required)


_NONE: frozenset[FilterOperator] = frozenset()


def _relative(filters: Iterable[FilterRule]) -> bool:
    return any(r.operator in CLOCK_OPERATORS for r in filters)
