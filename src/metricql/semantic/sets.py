"""Field sets (`meta.sets`): named, nestable field lists with `-field` exclusions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from metricql.errors import CompileError

_VALID = re.compile(r"^[A-Za-z0-9_.]+$")
MAX_DEPTH = 3


def expand_fields(
    entries: Sequence[str], sets: Mapping[str, Any], *, where: str, **context: Any
) -> list[str]:
    """Field names of `entries`: `name`, `set*` (a set, nested ≤ 3 levels), `-name` (exclude).

    Order is kept, exclusions apply to everything listed, duplicates are dropped.
    """
    included: list[str] = []
    excluded: set[str] = set()
    _expand(entries, sets, included, excluded, [], where, context)
    return [f for f in dict.fromkeys(included) if f not in excluded]


def _expand(
    entries: Sequence[str],
    sets: Mapping[str, Any],
    included: list[str],
    excluded: set[str],
    path: list[str],
    where: str,
    context: dict[str, Any],
) -> None:
    for raw in entries:
        entry = str(raw).strip()
        name = entry.lstrip("-").rstrip("*")
        if not name or not _VALID.match(name):
            raise CompileError(
                f"{where}: invalid field entry {entry!r}",
                hint="use field, set_name* or -field (letters, digits, _ and . only)",
                **context,
            )
        if entry.startswith("-"):
            excluded.add(name)
        elif entry.endswith("*"):
            _expand(
                _set(name, sets, path, where, context),
                sets,
                included,
                excluded,
                [*path, name],
                where,
                context,
            )
        else:
            included.append(name)


def _set(
    name: str, sets: Mapping[str, Any], path: list[str], where: str, context: dict[str, Any]
) -> Sequence[str]:
    if name in path:
        raise CompileError(
            f"{where}: sets reference each other in a cycle: {' → '.join([*path, name])}",
            hint="remove the circular set reference",
            **context,
        )
    if len(path) >= MAX_DEPTH:
        raise CompileError(
            f"{where}: set {name!r} nests deeper than {MAX_DEPTH} levels",
            hint="flatten the sets",
            **context,
        )
    definition = sets.get(name)
    fields = definition.get("fields") if isinstance(definition, Mapping) else None
    if not isinstance(fields, list) or not fields:
        known = ", ".join(sorted(sets)) or "none"
        raise CompileError(
            f"{where}: set {name!r} is not defined (or has no fields)",
            hint=f"sets of this model: {known}; define `sets: {{{name}: {{fields: [...]}}}}`",
            **context,
        )
    return [str(f) for f in fields]
