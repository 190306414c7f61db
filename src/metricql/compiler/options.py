"""Compile options: everything besides the explore and the query that the SQL depends on."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from metricql.context import UserContext
from metricql.limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True, slots=True)
class CompileOptions:
    """How to compile: target dialect, who asks, the clock, week start, caps, strictness.

    `now` None reads the clock at compile time; `strict` turns inflated-metric warnings into
    errors; `max_limit` caps the query's limit. The custom-SQL policy runs on the query's
    snippets whenever `user` is set; `sql_policy=True` runs it for a trusted caller too, and
    `allow_functions` adds function names it accepts.
    `timezone_buckets` truncates TIMESTAMP intervals in the query's timezone (Lightdash's
    timezone-aware DATE_TRUNC).
    """

    dialect: str = "duckdb"
    user: UserContext | None = None
    now: datetime | None = None
    week_start: int | None = None
    max_limit: int | None = None
    strict: bool = False
    sql_policy: bool = False
    allow_functions: frozenset[str] = frozenset()
    limits: Limits = DEFAULT_LIMITS
    timezone_buckets: bool = False  # truncate timestamps in the query's timezone

    @property
    def enforces_policy(self) -> bool:
        """True when the custom-SQL policy checks the query's snippets."""
        return self.user is not None or self.sql_policy

    # Lightdash parameter values by name (over the query's own `parameters`)
    parameters: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def with_query_parameters(self, values: Mapping[str, Any] | None) -> CompileOptions:
        """These options with a query's own parameter values under the keyword ones: every
        compile path of one query (rows, totals, explain) reads its values from here.
        Applying it twice changes nothing."""
        if not values:
            return self
        return replace(self, parameters=MappingProxyType({**values, **self.parameters}))

    def key(self) -> Hashable:
        """Hashable form (the user by every attribute and intrinsic value), for cache keys."""
        return (
            self.dialect,
            user_key(self.user),
            self.now,
            self.week_start,
            self.max_limit,
            self.strict,
            self.enforces_policy,
            tuple(sorted(self.allow_functions)),
            self.limits,
            self.timezone_buckets,
            parameters_key(self.parameters),
        )


def parameters_key(values: Mapping[str, Any]) -> Hashable:
    """Hashable form of parameter values (lists as tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in values.items()))


def user_key(user: UserContext | None) -> Hashable:
    """Hashable identity of a user context: every attribute and intrinsic value."""
    if user is None:
        return None
    attributes = tuple(
        sorted((k, v if isinstance(v, str) else tuple(v)) for k, v in user.attributes.items())
    )
    return (attributes, user.email, user.user_uuid, user.custom_sql)
