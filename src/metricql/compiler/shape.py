"""The shape cache: compiled SQL of a query shape, re-rendered with new filter values.

A *shape* is a query with its swappable filter values taken out (str/int/float values of
rules in `query.filters`, except relative-date counts and user-attribute tokens, which stay
in the key with everything else: fields, operators, value counts and types, options, user).

    miss: compile fresh (that result is returned); from the shape's second query on, compile
          once more with each value marked (compiler/sql/slots.py) → a template: the SQL
          split at the markers, and the builder of each marker's literal. The template is
          kept only if re-rendering it with that query's values gives its fresh SQL exactly.
    hit:  each marker's literal built from the new value and rendered alone, joined with
          the template's text: no planning, no tree copies. Values stay literals.

Anything unusual on a hit (a builder raising on a bad value, a marker-like string in a
value) falls back to a fresh compile, which then raises or answers exactly as it would have.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.generator import Generator

from metricql.compiler.cache import uses_clock
from metricql.compiler.compiled import BuiltOnRead, CompiledQuery, compared
from metricql.compiler.options import CompileOptions
from metricql.compiler.sql.dialect_rules import RULES, adapt
from metricql.compiler.sql.filters import CLOCK_OPERATORS
from metricql.compiler.sql.slots import SWAPPABLE, TOKEN, Builder, recording, wrap
from metricql.query.model import AndGroup, FilterItem, FilterRule, Filters, MetricQuery
from metricql.semantic.explore import Explore
from metricql.semantic.refs import MARK

Compile = Callable[[MetricQuery], CompiledQuery]
_MARKER = re.compile(rf"{TOKEN}(\d+)\(\)", re.IGNORECASE)
_OTHER_FIELDS = tuple(name for name in MetricQuery.model_fields if name != "filters")
_SEEN_VALUES = 64  # values remembered per marker
_GENERATORS = threading.local()  # a Generator is stateful: one per thread and dialect


_SEEN = "seen once"  # a shape's first query: compiled, not templated yet
_UNFIT = "unfit"  # a shape whose template would not reproduce the fresh compile


class ShapeCache:
    """LRU of templates by shape key (or _SEEN / _UNFIT)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Template | str] = OrderedDict()
        self._lock = threading.Lock()

    def compile(
        self, shape: tuple[Hashable, list[Any]], query: MetricQuery, fresh: Compile
    ) -> CompiledQuery:
        """`query` (of `shape`, from `shape_key`) re-rendered from its shape's template,
        else `fresh(query)`."""
        key, values = shape
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if isinstance(entry, Template):
            hit = entry.render(values)
            return hit if hit is not None else fresh(query)
        result = fresh(query)
        if entry is None and self.size > 0:
            self._store(key, _SEEN)  # a one-off query costs one compile, as before
        elif entry is _SEEN:  # the shape came back with new values: worth a template
            self._store(key, _template(query, values, result, fresh) or _UNFIT)
        return result

    def _store(self, key: Hashable, template: Template | str) -> None:
        with self._lock:
            self._entries[key] = template
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def shape_key(
    explore: Explore, query: MetricQuery, options: CompileOptions
) -> tuple[Hashable, list[Any]] | None:
    """(key of everything but the swappable values, those values in slot order), or None
    when the query must not be templated (it reads the clock, or is unhashable)."""
    values: list[Any] = []
    clock: list[FilterRule] = []  # the walk below notes rules that read the clock
    f = query.filters
    groups = (f.dimensions, f.metrics, f.table_calculations)
    filters = tuple(_signature(g, values, clock) for g in groups)
    if options.now is None and (clock or uses_clock(explore, query, filters=False)):
        return None
    rest = tuple(getattr(query, name) for name in _OTHER_FIELDS)
    try:
        key = HashedKey((explore.name, id(explore), rest, filters, options.key()))
    except TypeError:
        return None
    return key, values


class HashedKey:
    """A cache key hashed once: tuples of pydantic models re-hash every field on each use."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: Hashable) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, HashedKey) or self._hash != other._hash:
            return False
        return bool(self.value == other.value)


def _swappable(rule: FilterRule, value: Any) -> bool:
    if type(value) not in SWAPPABLE or rule.operator in CLOCK_OPERATORS:
        return False
    return not (isinstance(value, str) and "${" in value)  # user attributes: in the key


def _signature(item: FilterItem | None, values: list[Any], clock: list[FilterRule]) -> Hashable:
    if item is None:
        return None
    if isinstance(item, FilterRule):
        if item.operator in CLOCK_OPERATORS:
            clock.append(item)
        tags: list[Hashable] = []
        for v in item.values:
            if _swappable(item, v):
                values.append(v)
                tags.append((type(v), v == ""))  # empty text matches drop out
            else:
                tags.append(("value", v))
        rule = item
        return (rule.id, rule.target.field_id, rule.operator, rule.settings, rule.disabled,
                rule.required, rule.case_sensitive, rule.include_null, tuple(tags))  # fmt: skip
    kind = "and" if isinstance(item, AndGroup) else "or"
    return (kind, item.id, tuple(_signature(child, values, clock) for child in item.children))


def _marked(query: MetricQuery) -> MetricQuery:
    """`query` with each swappable value wrapped with its slot number (shape_key's order)."""
    count = iter(range(1 << 30))

    def mark(rule: FilterRule) -> FilterRule:
        values = tuple(wrap(v, next(count)) if _swappable(rule, v) else v for v in rule.values)
        return rule.model_copy(update={"values": values})

    f = query.filters
    groups = [g.map_rules(mark) if g is not None else None for g in (f.dimensions, f.metrics,
              f.table_calculations)]  # fmt: skip
    filters = Filters(dimensions=groups[0], metrics=groups[1], table_calculations=groups[2])
    return query.model_copy(update={"filters": filters})


class Template:
    """A compiled shape: SQL text around value markers, and how to build each marker's SQL."""

    __slots__ = ("_builders", "_casts", "_parts", "_seen", "_slots", "base")

    def __init__(self, base: CompiledQuery, found: Sequence[tuple[int, Builder]]) -> None:
        self.base = base  # the marked compile: fields, warnings, the tree with markers
        pieces = _MARKER.split(base.sql)
        self._parts: tuple[str, ...] = tuple(pieces[0::2])
        self._slots = tuple(int(i) for i in pieces[1::2])  # marker number of each gap
        self._builders = tuple(found)
        self._casts: dict[int, tuple[Hashable, str, str]] = {}  # marker → (type, text around)
        self._seen: list[dict[Hashable, str]] = [{} for _ in found]  # per marker: value → SQL

    def render(self, values: Sequence[Any]) -> CompiledQuery | None:
        """The compiled query for `values`, or None when only a fresh compile can answer."""
        dialect = self.base.dialect
        texts: dict[int, str] = {}
        out = [self._parts[0]]
        try:
            for marker, part in zip(self._slots, self._parts[1:], strict=True):
                text = texts.get(marker)
                if text is None:
                    text = texts[marker] = self._value_text(marker, values, dialect)
                out += (text, part)
        except Exception:  # a bad value: the fresh compile raises it properly
            return None
        sql = "".join(out)
        if MARK.lower() in sql.lower():  # a fresh compile refuses this: let it say so
            return None
        return ShapedQuery(self, values, sql)

    def _value_text(self, marker: int, values: Sequence[Any], dialect: str) -> str:
        """SQL of the value at one marker; values seen lately at that marker are remembered
        (a dashboard's filters come back to the same few values)."""
        slot, build = self._builders[marker]
        value = values[slot]
        seen = (type(value), repr(value) if type(value) is float else value)  # 0.0 vs -0.0
        memo = self._seen[marker]
        text = memo.get(seen)
        if text is None:
            text = self._text(marker, build(value), dialect)
            if len(memo) >= _SEEN_VALUES:
                memo.clear()
            memo[seen] = text
        return text

    def _text(self, marker: int, node: exp.Expr, dialect: str) -> str:
        """SQL of one marker's literal. A CAST of a text literal (dates, timestamps) is
        rendered once per marker and type; later values only render their literal."""
        if not (isinstance(node, exp.Cast) and type(node.this) is exp.Literal):
            return _render(node, dialect)
        known = self._casts.get(marker)
        literal = _render(node.this, dialect)
        kind = node.args["to"]
        if known is not None and known[0] == (kind.this, len(kind.expressions)):
            return known[1] + literal + known[2]
        text = _render(node, dialect)
        before, found, after = text.partition(literal)
        if found and after.find(literal) < 0:
            self._casts[marker] = ((kind.this, len(kind.expressions)), before, after)
        return text

    def tree(self, values: Sequence[Any]) -> exp.Expr:
        """The query tree for `values`: the marked tree with each marker's literal put back."""

        def put_back(node: exp.Expr) -> exp.Expr:
            found = _MARKER.fullmatch(f"{node.name}()") if isinstance(node, exp.Anonymous) else None
            if found is None:
                return node
            slot, build = self._builders[int(found.group(1))]
            return adapt(build(values[slot]), self.base.dialect)

        return self.base.tree.transform(put_back)  # a copy: the template stays as it is


class ShapedQuery(BuiltOnRead):
    """A CompiledQuery rendered from a template; its `tree` is rebuilt when first read."""

    __slots__ = ()

    def __init__(self, template: Template, values: Sequence[Any], sql: str) -> None:
        base = template.base
        super().__init__(sql=sql, dialect=base.dialect, fields=base.fields, explore=base.explore,
                         warnings=base.warnings, issues=base.issues,
                         build=partial(template.tree, tuple(values)))  # fmt: skip


def _template(
    query: MetricQuery, values: Sequence[Any], fresh_result: CompiledQuery, fresh: Compile
) -> Template | None:
    """The template of `query`'s shape, if it reproduces the fresh compile exactly."""
    try:
        with recording() as found:
            marked = fresh(_marked(query))
    except Exception:  # not templatable; the fresh compile already answered
        return None
    if {slot for slot, _ in found} != set(range(len(values))):
        return None  # a value that reached the SQL by another path would stay baked in
    template = Template(marked, found)
    again = template.render(values)
    if again is None or compared(again) != compared(fresh_result):
        return None
    return template


def _render(node: exp.Expr, dialect: str) -> str:
    """SQL of one value's literal, as the whole query's rendering would spell it."""
    generators: dict[str, Generator] | None = getattr(_GENERATORS, "by_dialect", None)
    if generators is None:
        generators = _GENERATORS.by_dialect = {}
    generator = generators.get(dialect)
    if generator is None:
        generator = generators[dialect] = Dialect.get_or_raise(dialect).generator()
    if _plain_value(
        node, dialect, generator
    ):  # the generator's own handler, minus generate()'s wrapper
        return generator.sql(node).strip()
    return generator.generate(adapt(node, dialect), copy=False)  # the same entry as the query


def _plain_value(node: exp.Expr, dialect: str, generator: Generator) -> bool:
    """A literal (or negated number) nothing but its generator handler changes: no dialect
    rule applies, and the dialect keeps sqlglot's generate(), whose copy, preprocessing
    (CTEs, ENSURE_BOOLS) and unsupported checks have nothing to do on it (Athena's picks
    another generator per statement). Checked: tests/compiler/test_shape_literals.py."""
    inner = node.this if type(node) is exp.Neg else node
    if type(inner) is not exp.Literal or node.comments or inner.comments:
        return False
    kind = type(generator)
    if kind.generate is not Generator.generate or kind.preprocess is not Generator.preprocess:
        return False
    return not (RULES.get(dialect, {}).keys() & _VALUE_TYPES)


_VALUE_TYPES = frozenset({exp.Literal, exp.Neg})
