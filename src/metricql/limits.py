"""Size caps on what one request or one project may make metricql do, in one frozen object.

Every cap is checked on the input *before* the work that grows with it starts (a 10⁹-bin
request is refused before a single CASE branch is built); a breach is a `LimitError` (or, for a
project, a `ProjectError`) naming the limit, its value and the culprit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from metricql.errors import LimitError, QueryError
from metricql.query.model import (
    CustomBinDimension,
    CustomSqlDimension,
    FilterGroup,
    FilterRule,
    MetricQuery,
    rules,
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Every size cap, with defaults generous for people and small for attackers."""

    bins: int = 100  # binNumber of one fixed_number bin
    custom_ranges: int = 100  # ranges of one custom_range bin
    fields: int = 200  # dimensions + metrics + custom dimensions + additional metrics
    filter_rules: int = 200  # rules across all filter groups of a query
    nesting_depth: int = 20  # filter groups inside groups; parentheses inside one SQL snippet
    sql_length: int = 5_000  # characters of one query-author SQL snippet
    calculations: int = 50  # table calculations of a query
    yaml_aliases: int = 100_000  # nodes a YAML file expands to, aliases counted as copies
    resolved_sql: int = 50_000  # SQL tree nodes of one resolved YAML field
    reference_depth: int = 50  # chain of YAML fields (or metrics) referencing each other


DEFAULT_LIMITS = Limits()


def breach(limit: str, value: int, cap: int, what: str, **context: Any) -> LimitError:
    """The LimitError of one breach: which limit, how far, where."""
    return LimitError(
        f"{what}: {value} exceeds the limit {limit} = {cap}",
        hint=f"reduce it, or raise Limits.{limit} if this is intended",
        limit=limit,
        **context,
    )


def check_query(query: MetricQuery, limits: Limits = DEFAULT_LIMITS) -> None:
    """LimitError for the first cap `query` exceeds; cheap, and before any SQL is built."""
    sizes = (
        ("fields", _field_count(query), "fields of the query"),
        ("calculations", len(query.table_calculations), "table calculations"),
        ("filter_rules", sum(1 for _ in _all_rules(query)), "filter rules"),
    )
    for limit, value, what in sizes:
        if value > getattr(limits, limit):
            raise breach(limit, value, getattr(limits, limit), what)
    for group in _groups(query):
        depth = group_depth(group)
        if depth > limits.nesting_depth:
            raise breach("nesting_depth", depth, limits.nesting_depth, "filter group nesting")
    for custom in query.custom_dimensions:
        _check_bin(custom, limits)
    for owner, sql in _snippets(query):
        check_sql_text(sql, limits, owner)


def check_sql_text(sql: str, limits: Limits, owner: str) -> None:
    """SQL length and parenthesis depth of one snippet, before it is parsed (the parser
    recurses once per parenthesis)."""
    if len(sql) > limits.sql_length:
        raise breach("sql_length", len(sql), limits.sql_length, f"SQL of {owner!r}", field=owner)
    depth = deepest = 0
    for char in sql:
        depth += (char in "([{") - (char in ")]}")
        deepest = max(deepest, depth)
    if deepest > limits.nesting_depth:
        raise breach(
            "nesting_depth", deepest, limits.nesting_depth, f"brackets in {owner!r}", field=owner
        )


def group_depth(group: FilterGroup) -> int:
    """How deep groups nest inside `group` (a group of rules only is 1), without recursion."""
    deepest, stack = 0, [(group, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in node.children if not isinstance(c, FilterRule))
    return deepest


def json_depth(value: Any) -> int:
    """How deep lists and objects nest in a JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Iterable[Any] = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in children)
    return deepest


def parse_query(
    source: str | bytes | Mapping[str, Any], limits: Limits = DEFAULT_LIMITS
) -> MetricQuery:
    """A MetricQuery from Lightdash's JSON (text or already decoded); every problem is a
    QueryError (the pydantic detail in `errors`), every breach a LimitError."""
    data = _decoded(source) if isinstance(source, (str, bytes)) else source
    if not isinstance(data, Mapping):
        raise QueryError("a metric query must be a JSON object", hint="send {exploreName: …}")
    depth, cap = json_depth(data), 2 * limits.nesting_depth + 8  # a group is an object + a list
    if depth > cap:
        raise breach("nesting_depth", depth, cap, "JSON nesting of the query")
    try:
        query = MetricQuery.model_validate(data)
    except ValidationError as err:
        problems = err.errors(include_url=False, include_input=False)
        first = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in problems[:3]
        )
        raise QueryError(
            f"invalid metric query: {first}",
            hint="see Lightdash's MetricQuery: exploreName, dimensions, metrics, filters, …",
            errors=[f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in problems],
        ) from None
    check_query(query, limits)
    return query


def _decoded(text: str | bytes) -> Any:
    def no_constant(name: str) -> Any:
        raise QueryError(f"{name} is not a JSON number", hint="send finite numbers only")

    try:
        return json.loads(text, parse_constant=no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise QueryError(f"the query is not JSON: {err}", hint="send a JSON object") from None
    except RecursionError:
        raise QueryError("the query JSON nests too deeply", hint="flatten it") from None


def _field_count(query: MetricQuery) -> int:
    return (
        len(query.dimensions)
        + len(query.metrics)
        + len(query.custom_dimensions)
        + len(query.additional_metrics)
    )


def _groups(query: MetricQuery) -> Iterator[FilterGroup]:
    f = query.filters
    yield from (g for g in (f.dimensions, f.metrics, f.table_calculations) if g is not None)


def _all_rules(query: MetricQuery) -> Iterator[FilterRule]:
    for group in _groups(query):
        yield from rules(group)
    for metric in query.additional_metrics:
        yield from metric.filters


def _check_bin(custom: CustomBinDimension | CustomSqlDimension, limits: Limits) -> None:
    if not isinstance(custom, CustomBinDimension):
        return
    if custom.bin_type == "fixed_number" and (custom.bin_number or 0) > limits.bins:
        raise breach("bins", custom.bin_number or 0, limits.bins, f"binNumber of {custom.id!r}")
    ranges = len(custom.custom_range or ())
    if custom.bin_type == "custom_range" and ranges > limits.custom_ranges:
        raise breach("custom_ranges", ranges, limits.custom_ranges, f"ranges of {custom.id!r}")


def _snippets(query: MetricQuery) -> Iterator[tuple[str, str]]:
    for custom in query.custom_dimensions:
        if isinstance(custom, CustomSqlDimension):
            yield custom.id, custom.sql
    for metric in query.additional_metrics:
        yield f"{metric.table}_{metric.name}", metric.sql
    for calc in query.table_calculations:
        if calc.sql is not None:
            yield calc.name, calc.sql
