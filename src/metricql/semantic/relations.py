"""The FROM relation of a model: `sql_from`, the manifest's relation name, or the name dbt's
adapter would give it (database.schema.name, quoted as the adapter quotes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from metricql.errors import CompileError
from metricql.project.schema import ModelSchema, ProjectSchema


def relation_of(parsed: exp.Expr) -> exp.Expr | None:
    """A parsed FROM relation as a table or subquery tree; None when it is neither."""
    if isinstance(parsed, exp.Column):  # db.schema.table parses as a column reference
        parts = parsed.parts
        return exp.Table(
            this=parts[-1],
            db=parts[-2] if len(parts) > 1 else None,
            catalog=parts[-3] if len(parts) > 2 else None,
        )
    if isinstance(parsed, exp.Query):
        return exp.Subquery(this=parsed)
    return parsed if isinstance(parsed, (exp.Subquery, exp.Table)) else None


def model_relation(
    model: ModelSchema, project: ProjectSchema, dialect: str, ctx: dict[str, Any]
) -> exp.Expr:
    """FROM relation: `sql_from`, else manifest relation_name, else database.schema.name."""
    raw = model.meta.sql_from or model.relation_name
    if raw:
        try:
            parsed = sqlglot.parse_one(raw, read=dialect)
        except (ParseError, TokenError) as err:
            raise CompileError(
                f"sql_from of model {model.name!r} does not parse: {raw!r} "
                f"({str(err).splitlines()[0]})",
                hint="write a table name (db.schema.table) or a parenthesised SELECT",
                field="sql_from",
                **ctx,
            ) from None
        relation = relation_of(parsed)
        if relation is not None:
            return relation
        raise CompileError(
            f"sql_from of model {model.name!r} is not a table or subquery: {raw!r}",
            hint="write a table name (db.schema.table) or a parenthesised SELECT",
            field="sql_from",
            **ctx,
        )
    target = project.target
    style = _RELATION_STYLE.get(target.type, _RelationStyle()) if target else _RelationStyle()
    schema = model.schema_ or (target.schema if target else None)
    database = model.database or (target.database if target and style.catalog else None)
    return exp.table_(model.alias or model.name, db=schema, catalog=database, quoted=style.quoted)


@dataclass(frozen=True, slots=True)
class _RelationStyle:
    """How a dbt adapter names relations, where it differs from quoted `db.schema.table`."""

    catalog: bool = True  # the profile's database names the catalog
    quoted: bool = True  # dbt quotes relation names


_RELATION_STYLE: Mapping[str, _RelationStyle] = {
    # The catalog is whatever database the DuckDB connection has open, so leave it out.
    "duckdb": _RelationStyle(catalog=False),
    # Unquoted names fold to upper case, as dbt-snowflake creates them.
    "snowflake": _RelationStyle(quoted=False),
}
