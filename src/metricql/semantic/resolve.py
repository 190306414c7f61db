"""Resolve `${...}` references inside one explore into sqlglot trees, memoising dimensions and
reporting every cycle of references with its whole path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

from sqlglot import exp

from metricql.errors import CircularReferenceError, CompileError, MetricQLError, QueryError
from metricql.limits import DEFAULT_LIMITS
from metricql.query.model import FilterRule, FilterTarget
from metricql.query.parse import parse_filter_entries
from metricql.semantic.fields import (
    POST_CALCULATION_METRIC_TYPES,
    BadReference,
    field_id,
    parse_field_ref,
)
from metricql.semantic.models import DimDef, ModelDef
from metricql.semantic.parameters import parameter_name
from metricql.semantic.refs import (
    Snippet,
    attribute_ref,
    interval_of,
    metric_ref,
    parameter_ref,
    substitute,
)

Mode = Literal["dimension", "aggregate", "metric", "post", "join", "where"]
Required = Mapping[str, tuple[str, ...]]
AnyOf = tuple[Required, ...]  # `any_attributes` groups: each needs one matching attribute


def merge_required(a: Required, b: Required) -> Required:
    """Both sets of required attributes at once: an attribute in both allows the common values.

    A field that reads a protected field inherits its protection this way, so selecting it
    cannot reveal what the protected field holds.
    """
    if not b:
        return a
    out = dict(a)
    for name, values in b.items():
        out[name] = tuple(v for v in out[name] if v in values) if name in out else tuple(values)
    return out


def merge_any(a: AnyOf, b: AnyOf) -> AnyOf:
    """Both lists of `any_attributes` groups at once (every group must still be met)."""
    return a + tuple(g for g in b if g not in a) if b else a


def own_any(attributes: Required) -> AnyOf:
    """A field's or table's own `any_attributes` as a list of groups (none when empty)."""
    return (MappingProxyType(dict(attributes)),) if attributes else ()


@dataclass(frozen=True, slots=True)
class Resolved:
    """A resolved snippet: its tree and the tables and metrics it reads."""

    tree: exp.Expr
    tables: frozenset[str]
    metrics: frozenset[str] = frozenset()
    required: Required = field(default_factory=dict)  # of every dimension it reads
    any_of: AnyOf = ()  # likewise, `any_attributes`
    size: int = 0  # nodes of the tree, counted before it is built (see Limits.resolved_sql)


@dataclass(slots=True)
class _State:
    """One snippet being resolved: where it sits, and the tables and metrics it reads so far."""

    snippet: Snippet
    key: str  # the table the snippet belongs to
    mode: Mode
    owner: str
    prefer_dims: bool  # a number metric with its own aggregates reads dimensions on a clash
    tables: set[str] = field(default_factory=set)
    metrics: set[str] = field(default_factory=set)
    required: Required = field(default_factory=dict)
    any_of: AnyOf = ()
    size: int = 0


class Resolver:
    """Resolves references inside one explore, memoising dimensions and detecting cycles."""

    def __init__(
        self,
        explore: str,
        tables: Mapping[str, ModelDef],
        ctx: dict[str, Any],
        parameters: frozenset[str] = frozenset(),
    ) -> None:
        self.explore = explore
        self.tables = tables
        self.ctx = ctx
        self.parameters = parameters  # names `${lightdash.parameters.…}` may reference
        self._dims: dict[tuple[str, str], Resolved] = {}
        self._stack: list[tuple[str, str]] = []
        self.join_dimensions: dict[str, set[str]] = {}

    def filter_rules(
        self, entries: list[Any], key: str, where: str, *, required_default: bool
    ) -> tuple[FilterRule, ...]:
        """Parse YAML filter shorthand; targets become dimension field ids of this explore."""
        try:
            parsed = parse_filter_entries(entries, required_default=required_default, where=where)
        except QueryError as err:
            raise CompileError(err.message, hint=err.hint, field=where, **self.ctx) from None
        out = []
        for rule, _ in parsed:
            ref = rule.target.field_id
            try:
                table, name = parse_field_ref(ref, key)
            except BadReference:
                raise CompileError(
                    f"{where}: filter field {ref!r} must be field or table.field",
                    hint="use at most one dot",
                    field=where,
                    **self.ctx,
                ) from None
            table = self.table_key(table, where, ref)
            if self.find_dimension(table, name) is None:
                raise CompileError(
                    f'{where} in explore "{self.explore}" filters {ref!r}, which matches no '
                    f"dimension of table {table!r}",
                    hint="filter a dimension: field or table.field",
                    field=where,
                    **self.ctx,
                )
            target = FilterTarget(field_id=field_id(table, name))
            out.append(rule.model_copy(update={"target": target}))
        return tuple(out)

    def table_key(self, name: str, owner: str, ref: str) -> str:
        if name in self.tables:
            return name
        for key, model in self.tables.items():
            if model.name == name:
                return key
        raise CompileError(
            f'{owner} in explore "{self.explore}" references ${{{ref}}}, but table "{name}" '
            "is not part of this explore",
            hint=f"tables here: {', '.join(self.tables)}; join the model or fix the reference",
            field=owner,
            **self.ctx,
        )

    def dimension(self, key: str, name: str) -> Resolved:
        """Tree of dimension `name` of table `key` (interval children included)."""
        found = self.find_dimension(key, name)
        if found is None:
            raise CompileError(
                f'explore "{self.explore}" has no dimension {name!r} in table {key!r}',
                hint="this is a metricql bug: callers check the dimension exists",
                field=name,
                **self.ctx,
            )
        return found

    def find_dimension(self, key: str, name: str) -> Resolved | None:
        """Tree of dimension `name` of table `key` (interval children included), or None."""
        found = self._dims.get((key, name))
        if found is not None:
            return found
        model = self.tables[key]
        ddef = model.dimensions.get(name)
        if ddef is None:
            base, interval = _interval_child(model, name)
            if base is None or interval is None:
                return None
            parent = self.dimension(key, base.name)
            zoned = base.meta.convert_timezone is not False
            tree: exp.Expr = interval_of(parent.tree.copy(), interval, base.type, zoned=zoned)
            result = Resolved(tree, parent.tables, required=parent.required, any_of=parent.any_of)
        else:
            if (key, name) in self._stack:
                start = self._stack.index((key, name))
                path = [f"{t}.{n}" for t, n in self._stack[start:]] + [f"{key}.{name}"]
                raise CircularReferenceError(
                    f"dimensions reference each other in a cycle: {' → '.join(path)}",
                    hint="break the cycle: a dimension cannot depend on itself",
                    cycle=path,
                    model=model.name,
                    field=name,
                    **{k: v for k, v in self.ctx.items() if k != "model"},
                )
            if len(self._stack) >= DEFAULT_LIMITS.reference_depth:
                raise self._limit(
                    "reference_depth",
                    f"dimension {name} ends a chain of more than "
                    f"{DEFAULT_LIMITS.reference_depth} references, from "
                    f"{self._stack[0][0]}.{self._stack[0][1]}",
                    name,
                )
            self._stack.append((key, name))
            try:
                result = self.resolve(ddef.snippet, key, "dimension", f"dimension {name}")
            finally:
                self._stack.pop()
            meta = ddef.meta
            result = replace(
                result,
                required=merge_required(result.required, meta.required_attributes),
                any_of=merge_any(result.any_of, own_any(meta.any_attributes)),
            )
        self._dims[(key, name)] = result
        return result

    def resolve(self, snippet: Snippet, key: str, mode: Mode, owner: str) -> Resolved:
        """Copy of the snippet's tree with every reference substituted."""
        prefer_dims = mode == "metric" and any(True for _ in snippet.tree.find_all(exp.AggFunc))
        state = _State(snippet, key, mode, owner, prefer_dims)
        state.size = sum(1 for _ in snippet.tree.walk())
        try:
            tree, uses_table = substitute(snippet, key, lambda ref: self._reference(ref, state))
        except BadReference as bad:
            raise self._error(owner, bad.ref, snippet, bad.why) from None
        if uses_table:
            state.tables.add(key)
        return Resolved(
            tree,
            frozenset(state.tables),
            frozenset(state.metrics),
            state.required,
            state.any_of,
            state.size,
        )

    def _reference(self, ref: str, state: _State) -> exp.Expr:
        attr = attribute_ref(ref)
        if attr is not None:
            return attr
        owner, snippet, mode = state.owner, state.snippet, state.mode
        parameter = parameter_name(ref)
        if parameter is not None:
            if parameter not in self.parameters:
                known = ", ".join(sorted(self.parameters)) or "none"
                raise self._error(
                    owner, ref, snippet, f"no parameter {parameter!r} (defined: {known})"
                )
            return parameter_ref(parameter)
        if ref.startswith(("lightdash.", "ld.")):
            raise self._error(owner, ref, snippet, "unknown lightdash.* reference")
        try:
            table, name = parse_field_ref(ref, state.key)
        except BadReference as bad:
            raise self._error(owner, ref, snippet, bad.why) from None
        table = self.table_key(table, owner, ref)
        model = self.tables[table]
        want_metric = mode in ("metric", "post")
        is_dim = name in model.dimensions or _interval_child(model, name)[0] is not None
        is_metric = name in model.metrics
        if mode == "metric" and state.prefer_dims and is_dim:
            want_metric = False
        if want_metric and is_metric:
            target = model.metrics[name]
            if mode == "post" and target.type in POST_CALCULATION_METRIC_TYPES:
                raise self._error(
                    owner, ref, snippet, "post-calculation metrics cannot reference each other"
                )
            state.metrics.add(field_id(table, name))
            state.tables.add(table)
            return metric_ref(field_id(table, name))
        if not want_metric and is_dim:
            if mode == "join":
                self.join_dimensions.setdefault(table, set()).add(name)
            resolved = self._dependency(table, name, owner)
            state.size += resolved.size
            if state.size > DEFAULT_LIMITS.resolved_sql:  # before the copy that would grow it
                raise self._limit(
                    "resolved_sql",
                    f"{owner}: its SQL, with references resolved, exceeds "
                    f"{DEFAULT_LIMITS.resolved_sql} nodes (through ${{{ref}}})",
                    owner,
                )
            state.tables.update(resolved.tables or {table})
            state.required = merge_required(state.required, resolved.required)
            state.any_of = merge_any(state.any_of, resolved.any_of)
            return exp.Paren(this=resolved.tree.copy())
        broken = model.field_errors.get(name)
        if broken is not None:
            raise self._broken(owner, f"{table}.{name}", broken)
        kind = "metric" if want_metric else "dimension"
        raise self._error(owner, ref, snippet, f"it matches no {kind} of table {table!r}")

    def _dependency(self, table: str, name: str, owner: str) -> Resolved:
        """A referenced dimension; when it is broken, the error says so (no cascade)."""
        try:
            return self.dimension(table, name)
        except CircularReferenceError:
            raise
        except CompileError as err:
            if err.context.get("limit"):  # a size limit is the query's, not the field's
                raise
            raise self._broken(owner, f"{table}.{name}", err) from None

    def _broken(self, owner: str, ref: str, error: MetricQLError) -> CompileError:
        return CompileError(
            f'{owner} in explore "{self.explore}" references {ref}, which has its own '
            f"error: {error.message}",
            hint=f"fix {ref} first ({error.where.prefix.rstrip(': ') or 'see its error'})",
            field=owner,
            depends_on=ref,
            **self.ctx,
        )

    def _limit(self, limit: str, message: str, owner: str) -> CompileError:
        return CompileError(
            f'explore "{self.explore}": {message}',
            hint=f"simplify the references, or raise Limits.{limit}",
            field=owner,
            limit=limit,
            **self.ctx,
        )

    def _error(self, owner: str, ref: str, snippet: Snippet, why: str) -> CompileError:
        return CompileError(
            f'{owner} in explore "{self.explore}": reference ${{{ref}}} in {snippet.text!r} '
            f"cannot be resolved: {why}",
            hint="check the field name and the table it belongs to",
            field=owner,
            **self.ctx,
        )


def _interval_child(model: ModelDef, name: str) -> tuple[DimDef | None, Any]:
    """(base DimDef, TimeInterval) when `name` is `<base>_<interval>` of one of its intervals."""
    for ddef in model.dimensions.values():
        prefix = ddef.name + "_"
        if ddef.intervals and name.startswith(prefix):
            wanted = name[len(prefix) :].upper()
            for interval in ddef.intervals:
                if interval.value == wanted:
                    return ddef, interval
    return None, None
