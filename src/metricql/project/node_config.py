"""dbt's configuration of one model, read without a manifest and without running Jinja.

dbt applies, least to most specific (later wins key by key):

    dbt_project.yml `models:`   root, then project name, then each folder, then the model name
                                (`+key`, or a plain key whose value is not a mapping)
    the model's YAML `config:`
    the `config(...)` call in the model's .sql file

Only the keys that decide whether and where dbt builds a relation are read (`RELATION_KEYS`).
A value metricql cannot know without Jinja (`{{ var('x') }}`, `schema=target.name`) is a
warning naming the file and the key, and is left out.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from metricql.errors import Issue, Where

RELATION_KEYS = ("enabled", "materialized", "database", "schema", "alias")
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_CONFIG_CALL = re.compile(r"\{\{-?\s*config\s*\(")
_JINJA_CONSTANTS = {"true": True, "false": False, "none": None, "True": True, "False": False,
                    "None": None}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Setting:
    """One config value and where it was written (shown by `metricql validate`)."""

    value: Any
    origin: str


NodeConfig = Mapping[str, Setting]


class Layer(NamedTuple):
    """One level of configuration: where it was written, its file, its keys."""

    origin: str
    file: str
    values: Mapping[str, Any]


def project_layers(models: Any, fqn: Sequence[str], file: str) -> Iterator[Layer]:
    """dbt's `fqn_search`: the `models:` mapping, then one level per fqn part while it exists."""
    node = models
    path: list[str] = []
    levels = iter(fqn)
    while isinstance(node, Mapping):
        where = f"{file} models: {'.'.join(path)}" if path else f"{file} models:"
        yield Layer(
            where,
            file,
            {
                key[1:].strip() if key.startswith("+") else key: value
                for key, value in node.items()
                if key.startswith("+") or not isinstance(value, Mapping)
            },
        )
        part = next(levels, None)
        if part is None:
            return
        path.append(part)
        node = node.get(part)


def merged_config(layers: Sequence[Layer], issues: list[Issue]) -> dict[str, Setting]:
    """The relation keys of `layers` (least specific first), each with the layer that set it."""
    out: dict[str, Setting] = {}
    for origin, file, layer in layers:
        for key in RELATION_KEYS:
            if key not in layer:
                continue
            value = layer[key]
            if isinstance(value, str) and ("{{" in value or "{%" in value):
                issues.append(_jinja(file, f"`{key}: {value}` in {origin} is Jinja"))
                continue
            out[key] = Setting(value, origin)
    return out


def sql_config(path: Path, text: str, shown: str, issues: list[Issue]) -> dict[str, Any]:
    """Literal keyword arguments of the `{{ config(...) }}` calls in a model's SQL."""
    text = _JINJA_COMMENT.sub("", text)
    found: dict[str, Any] = {}
    for match in _CONFIG_CALL.finditer(text):
        call = _call_text(text, match.end() - 1)
        if call is None:
            issues.append(_jinja(shown, "a config( call is not closed"))
            continue
        found.update(_literal_arguments(call, shown, issues))
    return found


def _call_text(text: str, open_at: int) -> str | None:
    """`(...)` starting at `open_at`, brackets balanced outside string literals."""
    depth, quote, i = 0, "", open_at
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[open_at : i + 1]
        i += 1
    return None


def _literal_arguments(call: str, shown: str, issues: list[Issue]) -> dict[str, Any]:
    try:  # Jinja's call syntax is Python's; ast only parses, it never runs anything
        with warnings.catch_warnings():  # odd text (`1abc`) warns on stderr before failing
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(f"config{call}", mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # hostile text: not literal
        issues.append(_jinja(shown, f"config{_short(call)} is not literal"))
        return {}
    if not isinstance(tree, ast.Call):
        return {}
    out: dict[str, Any] = {}
    for keyword in tree.keywords:
        if keyword.arg is None or keyword.arg not in RELATION_KEYS:
            continue
        try:
            out[keyword.arg] = _literal(keyword.value)
        except (ValueError, RecursionError):
            written = f"config({keyword.arg}={ast.unparse(keyword.value)})"
            issues.append(_jinja(shown, f"{written} is not a literal"))
    return out


def _jinja(file: str, what: str) -> Issue:
    return Issue(
        "jinja_not_run",
        f"{what}: metricql does not run Jinja, so it is ignored",
        hint="run `dbt parse`: metricql then reads the names dbt resolved in target/manifest.json",
        where=Where(file=file),
    )


def _literal(node: ast.expr) -> Any:
    """A Jinja literal (`true`, `none`, strings, numbers, lists, dicts); else ValueError."""
    if isinstance(node, ast.Name) and node.id in _JINJA_CONSTANTS:
        return _JINJA_CONSTANTS[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.Constant):
        return node.value
    raise ValueError("not a literal")


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."
