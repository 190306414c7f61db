"""A bounded, thread-safe cache of compiled queries, keyed by everything the SQL depends on."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime

from metricql.compiler.compiled import CompiledQuery
from metricql.compiler.expressions import UserContext
from metricql.compiler.filters import CLOCK_OPERATORS
from metricql.compiler.plan import metric_closure
from metricql.query.model import FilterRule, MetricQuery, rules
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


def cache_key(
    explore: Explore,
    query: MetricQuery,
    user: UserContext | None,
    now: datetime | None,
    options: tuple[Hashable, ...],
) -> Hashable | None:
    """A key naming everything the SQL depends on, or None when it must not be cached."""
    if now is None and _uses_clock(explore, query):
        return None
    try:
        hash(query)
        query_key: Hashable = query
    except TypeError:  # dict-valued extras (formats, metadata): fall back to the JSON form
        query_key = query.model_dump_json()
    return (explore.name, id(explore), query_key, user_key(user), now, options)


def user_key(user: UserContext | None) -> Hashable:
    """Hashable identity of a user context: every attribute and intrinsic value."""
    if user is None:
        return None
    attributes = tuple(
        sorted((k, v if isinstance(v, str) else tuple(v)) for k, v in user.attributes.items())
    )
    return (attributes, user.email, user.user_uuid)


def _uses_clock(explore: Explore, query: MetricQuery) -> bool:
    groups = (query.filters.dimensions, query.filters.metrics, query.filters.table_calculations)
    if any(r.operator in CLOCK_OPERATORS for g in groups for r in rules(g)):
        return True
    if any(r.operator in CLOCK_OPERATORS for m in query.additional_metrics for r in m.filters):
        return True
    names = [*query.metrics, *(r.target.field_id for r in rules(query.filters.metrics))]
    known = [explore.metrics[n] for n in names if n in explore.metrics]
    if any(_relative(m.filters) for m in metric_closure(explore, known)):
        return True
    return _relative(r for r in explore.default_filters if r.required)


def _relative(filters: Iterable[FilterRule]) -> bool:
    return any(r.operator in CLOCK_OPERATORS for r in filters)
