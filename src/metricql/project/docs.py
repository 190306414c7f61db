"""dbt docs blocks: `{% docs name %}…{% enddocs %}` in .md files, used as `{{ doc("name") }}`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from metricql.errors import Issue, Where

_BLOCK = re.compile(r"\{%-?\s*docs\s+([A-Za-z_]\w*)\s*-?%\}(.*?)\{%-?\s*enddocs\s*-?%\}", re.DOTALL)
# doc("name") or doc("package", "name")
_CALL = re.compile(r"\{\{-?\s*doc\(\s*(?:(['\"])[^'\"]*\1\s*,\s*)?(['\"])([^'\"]+)\2\s*\)\s*-?\}\}")


def read_docs(root: Path, dirs: Sequence[str]) -> dict[str, str]:
    """Every docs block in the .md files under `dirs` (dbt's docs-paths), by name."""
    blocks: dict[str, str] = {}
    files = sorted({p for d in dirs if (root / d).is_dir() for p in (root / d).rglob("*.md")})
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, body in _BLOCK.findall(text):
            blocks[name] = body.strip()
    return blocks


def with_docs(entry: Any, docs: Mapping[str, str], where: str, issues: list[Issue]) -> None:
    """Replace `{{ doc("x") }}` in a YAML entry's description and its columns', in place.

    These are the descriptions dbt renders (meta is not rendered by dbt, so not here either).
    """
    if not isinstance(entry, dict):
        return
    columns = entry.get("columns")
    for node in [entry, *(columns if isinstance(columns, list) else ())]:
        value = node.get("description") if isinstance(node, dict) else None
        if isinstance(value, str) and "doc(" in value:
            node["description"] = _CALL.sub(lambda m: _block(m[3], docs, where, issues), value)


def _block(name: str, docs: Mapping[str, str], where: str, issues: list[Issue]) -> str:
    if name in docs:
        return docs[name]
    issues.append(
        Issue(
            "missing_docs_block",
            f"description uses doc({name!r}), but no docs block has that name",
            hint="write {% docs " + name + " %}…{% enddocs %} in a .md file under the docs-paths",
            where=Where(file=where),
        )
    )
    return ""
