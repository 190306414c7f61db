"""Custom granularities as trees: the SQL of lightdash.config.yml parsed once, applied to any
time dimension by putting the dimension's tree where `${COLUMN}` was."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import sqlglot
from sqlglot import exp

from metricql.errors import ProjectError
from metricql.project.schema import ProjectSchema
from metricql.semantic.fields import Dimension, DimensionType

_PLACEHOLDER = "__metricql_granularity_column__"


@dataclass(frozen=True, slots=True)
class CustomGranularity:
    """A named granularity: its label, result type and SQL with a column placeholder."""

    name: str
    label: str
    type: DimensionType
    tree: exp.Expr

    def applied(self, column: exp.Expr) -> exp.Expr:
        """The granularity of `column` (a copy; `column` is copied in at the placeholder)."""

        def put(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and node.name == _PLACEHOLDER:
                return exp.Paren(this=column.copy())
            return node

        return self.tree.copy().transform(put)


def custom_child(base: Dimension, grain: CustomGranularity) -> Dimension:
    """The custom granularity `grain` of the time dimension `base`: `<base>_<name>`."""
    return replace(
        base,
        name=f"{base.name}_{grain.name}",
        type=grain.type,
        label=f"{base.label} {grain.label}",
        sql=grain.applied(base.sql),
        time_interval=None,
        time_interval_base=base.name,
        is_interval_base=False,
        groups=(*base.groups, base.label),
    )


def custom_granularities(project: ProjectSchema, dialect: str) -> Mapping[str, CustomGranularity]:
    """The project's granularities parsed in its source dialect; a ProjectError names a bad one."""
    out = {}
    for name, spec in project.custom_granularities.items():
        text = spec.sql.replace("${COLUMN}", _PLACEHOLDER)
        try:
            tree = sqlglot.parse_one(text, read=dialect)
        except sqlglot.errors.SqlglotError as err:
            raise ProjectError(
                f"custom granularity {name!r}: its sql does not parse: {err}",
                hint="write one SQL expression over ${COLUMN}",
                file="lightdash.config.yml",
                key=f"custom_granularities.{name}.sql",
            ) from err
        if "$" in text or not any(c.name == _PLACEHOLDER for c in tree.find_all(exp.Column)):
            raise ProjectError(
                f"custom granularity {name!r}: its sql must read ${{COLUMN}} and no other "
                "reference",
                hint="e.g. DATE_TRUNC('QUARTER', ${COLUMN} + INTERVAL '1 month')",
                file="lightdash.config.yml",
                key=f"custom_granularities.{name}.sql",
            )
        if tree.find(exp.Select, exp.Table) is not None:
            raise ProjectError(
                f"custom granularity {name!r}: its sql must be an expression, not a query",
                hint="write one SQL expression over ${COLUMN}",
                file="lightdash.config.yml",
                key=f"custom_granularities.{name}.sql",
            )
        out[name] = CustomGranularity(name, spec.label, DimensionType(spec.type), tree)
    return MappingProxyType(out)
