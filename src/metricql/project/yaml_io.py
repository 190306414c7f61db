"""Reading YAML with line numbers: mappings remember where each key was written."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from metricql.errors import ProjectError
from metricql.limits import DEFAULT_LIMITS

try:  # the C loader is several times faster on large projects
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class LineDict(dict[str, Any]):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        """Line where `key` was written, else the mapping's own line."""
        return getattr(self, "key_lines", {}).get(key, self.line)


class _LineLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader whose mappings are LineDicts."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be scalars", key_node.start_mark
            )
        key = str(key) if not isinstance(key, str) else key
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; any problem becomes a ProjectError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ProjectError(
            f"cannot read {path.name}: {err.strerror or err}",
            hint="check the path and its permissions",
            file=str(path),
        ) from None
    except UnicodeDecodeError as err:
        raise ProjectError(
            f"{path.name} is not valid UTF-8 ({err.reason} at byte {err.start})",
            hint="save the file as UTF-8",
            file=str(path),
        ) from None
    try:
        if "&" in text and "*" in text:  # anchors and aliases: bound what they expand to
            _check_expansion(yaml.compose(text, Loader=_LineLoader), path)
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        raise ProjectError(
            f"malformed YAML: {problem}",
            hint="fix the YAML syntax at that line (indentation, quotes, a missing ':')",
            file=str(path),
            line=mark.line + 1 if mark else None,
        ) from None
    except yaml.YAMLError as err:
        raise ProjectError(
            f"malformed YAML: {err}", hint="fix the YAML syntax", file=str(path)
        ) from None


def _check_expansion(root: yaml.Node | None, path: Path) -> None:
    """ProjectError when the document, with every alias counted as a copy of its anchor,
    exceeds `Limits.yaml_aliases` nodes (a "billion laughs" file). Linear: sizes memoised."""
    cap = DEFAULT_LIMITS.yaml_aliases
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)] if root is not None else []
    while stack:
        node, children_done = stack.pop()
        kids = _children(node)
        if children_done:
            sizes[id(node)] = 1 + sum(sizes.get(id(k), 0) for k in kids)
            if sizes[id(node)] > cap:
                raise ProjectError(
                    f"{path.name} expands to more than {cap} YAML nodes through its aliases "
                    f"(at the anchor on line {node.start_mark.line + 1})",
                    hint="write the repeated parts out, or raise Limits.yaml_aliases",
                    file=str(path),
                    line=node.start_mark.line + 1,
                    limit="yaml_aliases",
                )
        elif id(node) not in sizes:
            sizes[id(node)] = 0  # in progress: a cycle counts nothing more
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; on conflicts `override` wins (used for meta + config.meta)."""
    merged = LineDict(base)
    merged.line = getattr(base, "line", None) or getattr(override, "line", None)
    merged.key_lines = {**getattr(base, "key_lines", {}), **getattr(override, "key_lines", {})}
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged
