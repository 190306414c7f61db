"""`Project.check_relationships`: run the checks of `compiler/features/relationships.py` on a
warehouse and report each violation with an example key and the metrics it would inflate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from metricql.compiler.features.relationships import (
    ROWS,
    VIOLATIONS,
    Check,
    Skipped,
    relationship_checks,
)
from metricql.compiler.sql.dialect_rules import adapt
from metricql.semantic.explore import Explore
from metricql.warehouse.base import Warehouse


@dataclass(frozen=True, slots=True)
class RelationshipViolation:
    """A primary key that repeats, or a join whose `relationship` the data contradicts."""

    kind: str
    explore: str
    table: str
    joined: str | None
    relationship: str | None
    example: dict[str, Any]  # the most repeated key
    rows: int  # rows that key meets (or holds, for a primary key)
    keys: int  # how many keys break the rule
    inflates: tuple[str, ...]
    sql: str

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v!r}" for k, v in self.example.items())
        if self.kind == "primary_key":
            what = f"primary key of {self.table!r} is not unique: {key} is on {self.rows} rows"
        else:
            what = (
                f"{self.table!r} → {self.joined!r} is declared {self.relationship}, but "
                f"{self.table} key {key} meets {self.rows} {self.joined} rows"
            )
        inflated = ", ".join(self.inflates) or "none"
        return (
            f"{self.explore}: {what} ({self.keys} such key{'s' if self.keys != 1 else ''}); "
            f"inflates: {inflated}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "explore": self.explore,
            "table": self.table,
            "joined": self.joined,
            "relationship": self.relationship,
            "example": {k: _json(v) for k, v in self.example.items()},
            "rows": self.rows,
            "keys": self.keys,
            "inflates": list(self.inflates),
            "sql": self.sql,
        }


@dataclass(frozen=True, slots=True)
class RelationshipReport:
    """What `check_relationships` ran and found."""

    checked: int
    violations: tuple[RelationshipViolation, ...] = ()
    skipped: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every key is unique and every declared relationship holds."""
        return not self.violations


def unique_checks(
    explores: Iterable[Explore], dialect: str, sample: int | None
) -> tuple[list[Check], list[str]]:
    """Every check of the explores once (a join or key shared by explores is checked once),
    and the relationships that cannot be checked."""
    checks: dict[tuple[str, ...], Check] = {}
    skipped: list[str] = []
    for explore in explores:
        for item in relationship_checks(explore, dialect, sample):
            if isinstance(item, Skipped):
                skipped.append(f"{item.explore}: join {item.table!r}: {item.reason}")
            else:
                checks.setdefault(item.identity, item)
    return list(checks.values()), skipped


def check_sql(check: Check, dialect: str) -> str:
    """The check's statement in `dialect`."""
    return str(adapt(check.select.copy(), dialect).sql(dialect=dialect))


def violation(
    check: Check, columns: Sequence[str], rows: Sequence[Sequence[Any]], sql: str
) -> RelationshipViolation | None:
    """The violation a check's result reports (None: it holds)."""
    if not rows:
        return None
    row = dict(zip((c.lower() for c in columns), rows[0], strict=True))
    return RelationshipViolation(
        kind=check.kind,
        explore=check.explore,
        table=check.table,
        joined=check.joined,
        relationship=check.relationship,
        example={k: row.get(k.lower()) for k in check.keys},
        rows=int(row[ROWS]),
        keys=int(row[VIOLATIONS]),
        inflates=check.inflates,
        sql=sql,
    )


def check_relationships(
    explores: Iterable[Explore], warehouse: Warehouse, sample: int | None = None
) -> RelationshipReport:
    """Run every check on `warehouse`: one statement per primary key and per direction of
    a join's relationship."""
    checks, skipped = unique_checks(explores, warehouse.dialect, sample)
    found = []
    for check in checks:
        sql = check_sql(check, warehouse.dialect)
        columns, rows = warehouse.execute(sql)
        broken = violation(check, columns, rows, sql)
        if broken is not None:
            found.append(broken)
    return RelationshipReport(len(checks), tuple(found), tuple(skipped))


def _json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
