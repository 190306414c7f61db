"""The metric closure of a query: the metrics it computes and every metric they reference.

Computed once per query by the planner; the fan-out analysis, the join reasons, the access
reads and the stitching all read it instead of walking the explore again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from metricql.semantic.explore import Explore
from metricql.semantic.fields import Metric


@dataclass(frozen=True, slots=True)
class MetricClosure:
    """Metrics in depth-first order, each once, and each by id."""

    metrics: tuple[Metric, ...]
    by_id: Mapping[str, Metric]

    def below(self, roots: Iterable[Metric]) -> Iterator[Metric]:
        """Each of `roots`, then (depth first) what it references; each once, all inside the
        closure (a root may be a metric that only references closure metrics)."""
        return _depth_first(roots, self.by_id)

    def sub(self, roots: Iterable[Metric]) -> MetricClosure:
        """The closure of `roots`, taken from this one without reading the explore."""
        return _closure(self.below(roots))


def metric_closure(explore: Explore, metrics: Iterable[Metric]) -> MetricClosure:
    """Each of `metrics`, followed (depth first) by the metrics it references; each once."""
    return _closure(_depth_first(metrics, explore.metrics))


def _closure(ordered: Iterable[Metric]) -> MetricClosure:
    metrics = tuple(ordered)
    return MetricClosure(metrics, MappingProxyType({m.id: m for m in metrics}))


def _depth_first(roots: Iterable[Metric], lookup: Mapping[str, Metric]) -> Iterator[Metric]:
    seen: set[str] = set()
    stack = list(roots)[::-1]
    while stack:
        metric = stack.pop()
        if metric.id in seen:
            continue
        seen.add(metric.id)
        yield metric
        stack.extend(lookup[r] for r in sorted(metric.metric_references, reverse=True))
