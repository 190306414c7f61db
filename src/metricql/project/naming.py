"""The relation dbt builds for a model: its naming macros, applied without running Jinja.

dbt names a model's relation with three macros (defaults below); a project may override them in
its `macros/`. metricql recognises the overrides people actually write (their text, whitespace
and Jinja trimming aside, is one of `_KNOWN`) and applies their rule; any other override is a
load warning naming the macro: the names it gives can only be known from `dbt parse`.

    generate_database_name(custom)  custom, else the target's database
    generate_schema_name(custom)    the target's schema, or `<target schema>_<custom>`
    generate_alias_name(custom)     custom, else the model's name
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from metricql.errors import Issue, Where
from metricql.project.node_config import NodeConfig, Setting
from metricql.project.profile import ProfileTarget

Rule = Callable[[str | None, ProfileTarget | None], str | None]  # (custom name, target) → name


def _default_schema(custom: str | None, target: ProfileTarget | None) -> str | None:
    base = target.schema if target is not None else None
    if custom is None:
        return base
    return f"{base}_{custom.strip()}" if base else custom.strip()


def _schema_as_is(custom: str | None, target: ProfileTarget | None) -> str | None:
    return custom.strip() if custom is not None else (target.schema if target else None)


def _schema_for_env(custom: str | None, target: ProfileTarget | None) -> str | None:
    """dbt's generate_schema_name_for_env: the custom schema as-is in target `prod` only."""
    in_prod = target is not None and target.target == "prod"
    return _schema_as_is(custom if in_prod else None, target)


def _default_database(custom: str | None, target: ProfileTarget | None) -> str | None:
    return custom.strip() if custom else (target.database if target else None)


def _database_of_target(custom: str | None, target: ProfileTarget | None) -> str | None:
    return _default_database(None, target)


# Each rule, named as `validate` shows it.
RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "dbt's default generate_schema_name": _default_schema,
        "custom schema used as-is": _schema_as_is,
        "dbt's generate_schema_name_for_env": _schema_for_env,
        "dbt's default generate_database_name": _default_database,
        "always the target's database": _database_of_target,
        "dbt's default generate_alias_name": lambda custom, _: custom.strip() if custom else None,
    }
)
_DEFAULTS = {
    "generate_schema_name": "dbt's default generate_schema_name",
    "generate_database_name": "dbt's default generate_database_name",
    "generate_alias_name": "dbt's default generate_alias_name",
}
# Canonical macro bodies (see `_canonical`: C is the first argument) → the rule they implement.
_KNOWN: Mapping[str, Mapping[str, str]] = {
    "generate_schema_name": {
        "{%ifCisnone%}{{target.schema}}{%else%}{{C}}{%endif%}": "custom schema used as-is",
        "{%ifCisnotnone%}{{C}}{%else%}{{target.schema}}{%endif%}": "custom schema used as-is",
        "{%ifC%}{{C}}{%else%}{{target.schema}}{%endif%}": "custom schema used as-is",
        "{%ifCisnone%}{{target.schema}}{%else%}{{target.schema}}_{{C}}{%endif%}":
            "dbt's default generate_schema_name",
        "{{generate_schema_name_for_env(C,node)}}": "dbt's generate_schema_name_for_env",
        "{{default__generate_schema_name(C,node)}}": "dbt's default generate_schema_name",
    },
    "generate_database_name": {
        "{%ifCisnone%}{{target.database}}{%else%}{{C}}{%endif%}":
            "dbt's default generate_database_name",
        "{{target.database}}": "always the target's database",
        "{{default__generate_database_name(C,node)}}": "dbt's default generate_database_name",
    },
    "generate_alias_name": {
        "{%ifCisnone%}{{node.name}}{%else%}{{C}}{%endif%}": "dbt's default generate_alias_name",
        "{%ifC%}{{C}}{%else%}{{node.name}}{%endif%}": "dbt's default generate_alias_name",
        "{{default__generate_alias_name(C,node)}}": "dbt's default generate_alias_name",
    },
}  # fmt: skip
_MACRO = re.compile(
    r"\{%-?\s*macro\s+(generate_(?:schema|database|alias)_name)\s*\(([^)]*)\)\s*-?%\}"
    r"(.*?)\{%-?\s*endmacro\s*-?%\}",
    re.DOTALL,
)
_SET_TARGET = re.compile(r"^\{%set(\w+)=target\.(schema|database)%\}")


@dataclass(frozen=True, slots=True)
class Naming:
    """The rule of each naming macro, and where it came from."""

    rules: Mapping[str, str]  # macro name → key of RULES
    sources: Mapping[str, str]  # macro name → the file overriding it (absent: dbt's default)

    def apply(self, macro: str, custom: str | None, target: ProfileTarget | None) -> str | None:
        """The name `macro` gives for `custom` under `target`."""
        return RULES[self.rules.get(macro, _DEFAULTS[macro])](custom, target)

    def describe(self, macro: str) -> str:
        """How `macro` names relations, for `validate`."""
        rule = self.rules.get(macro, _DEFAULTS[macro])
        source = self.sources.get(macro)
        return f"{rule} ({source})" if source else rule


DBT_DEFAULT_NAMING = Naming(rules={}, sources={})


def naming_rules(root: Path, macro_dirs: Sequence[str], issues: list[Issue]) -> Naming:
    """The project's naming macros; unrecognised overrides are warnings (dbt's default is used)."""
    rules: dict[str, str] = {}
    sources: dict[str, str] = {}
    for path in _macro_files(root, macro_dirs):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "generate_" not in text:
            continue
        shown = path.relative_to(root).as_posix()
        for match in _MACRO.finditer(re.sub(r"\{#.*?#\}", "", text, flags=re.DOTALL)):
            macro, args, body = match.groups()
            rule = _KNOWN[macro].get(_canonical(body, args))
            if rule is None:
                issues.append(
                    Issue(
                        "custom_naming_macro",
                        f"macro {macro} is a custom override metricql cannot apply without "
                        "running Jinja, so relation names may be wrong; run `dbt parse`",
                        hint="run `dbt parse`: metricql then reads the names dbt resolved in "
                        "target/manifest.json (or load the manifest.json path)",
                        where=Where(file=shown),
                    )
                )
                continue
            rules[macro] = rule
            sources[macro] = shown
    return Naming(rules=MappingProxyType(rules), sources=MappingProxyType(sources))


def _macro_files(root: Path, macro_dirs: Sequence[str]) -> list[Path]:
    return sorted(p for d in macro_dirs if (root / d).is_dir() for p in (root / d).rglob("*.sql"))


def _canonical(body: str, args: str) -> str:
    """The body without whitespace, Jinja trim markers, `| trim`; first argument → C."""
    first = args.split(",")[0].strip()
    text = re.sub(rf"\b{re.escape(first)}\b", "C", body) if first else body
    text = re.sub(r"\s+", "", text)
    text = text.replace("{%-", "{%").replace("-%}", "%}").replace("{{-", "{{").replace("-}}", "}}")
    text = text.replace("|trim", "")
    alias = _SET_TARGET.match(text)
    if alias:  # `{% set default_schema = target.schema %}` … `{{ default_schema }}`
        text = text[alias.end() :].replace(f"{{{{{alias[1]}}}}}", f"{{{{target.{alias[2]}}}}}")
    return text


@dataclass(frozen=True, slots=True)
class Relation:
    """Where dbt builds a model: database, schema, identifier, and how each was decided."""

    database: str | None
    schema: str | None
    identifier: str
    custom_database: bool  # False: the target's own database (left out of DuckDB SQL)
    origin: str


def relation_of(
    name: str, config: NodeConfig, naming: Naming, target: ProfileTarget | None
) -> Relation:
    """The relation dbt names for model `name` with `config`."""
    parts = {
        "database": ("generate_database_name", config.get("database")),
        "schema": ("generate_schema_name", config.get("schema")),
        "alias": ("generate_alias_name", config.get("alias")),
    }
    names = {
        part: naming.apply(macro, _text(setting), target)
        for part, (macro, setting) in parts.items()
    }
    origin = "; ".join(
        _origin(part, names[part], setting, naming.describe(macro), target)
        for part, (macro, setting) in parts.items()
    )
    database = names["database"]
    custom = database is not None and database != (target.database if target else None)
    return Relation(database, names["schema"], names["alias"] or name, custom, origin)


def _text(setting: Setting | None) -> str | None:
    return None if setting is None or setting.value is None else str(setting.value)


def _origin(
    part: str, name: str | None, setting: Setting | None, rule: str, target: ProfileTarget | None
) -> str:
    if setting is None or setting.value is None:
        if part == "alias":
            return "alias: the model name"
        if name is None:
            return f"no {part} (no profile target)"
        return f"{part} {name!r} from target {target.target!r}" if target else f"{part} {name!r}"
    value = str(setting.value).strip()
    how = "" if name == value and rule.startswith("dbt's default") else f", by {rule}"
    given = "" if name == value else f" {value!r} in"
    return f"{part} {name!r} from{given} {setting.origin}{how}"
