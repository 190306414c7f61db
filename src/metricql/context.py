"""Who runs a query: the user context that attributes, intrinsic values and access checks read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from metricql.errors import QueryError


@dataclass(frozen=True, slots=True)
class UserContext:
    """Who runs the query: user attributes (`${lightdash.attributes.x}`) and intrinsic fields.

    Attribute values are a string or a list of strings (a multi-valued attribute, as JSON
    gives it); lists become tuples, anything else is a QueryError naming the attribute.
    """

    attributes: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    email: str | None = None
    user_uuid: str | None = None
    custom_sql: bool = False
    """Permission to send custom SQL dimensions and additional metrics with SQL."""

    def __post_init__(self) -> None:
        if not isinstance(self.attributes, Mapping):
            raise QueryError(
                "user attributes must be a mapping of name to value",
                hint='e.g. {"region": "NA"} or {"region": ["NA", "EMEA"]}',
            )
        clean = {str(k): _value(str(k), v) for k, v in self.attributes.items()}
        object.__setattr__(self, "attributes", MappingProxyType(clean))
        for name in ("email", "user_uuid"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise QueryError(f"user {name} must be a string", hint=f"pass {name} as text")
        if not isinstance(self.custom_sql, bool):
            raise QueryError("custom_sql must be true or false", hint="pass a boolean")

    def intrinsic(self, name: str) -> str | None:
        """`${lightdash.user.<name>}` value."""
        return {"email": self.email, "uuid": self.user_uuid, "user_uuid": self.user_uuid}.get(name)


def _value(name: str, value: Any) -> str | tuple[str, ...]:
    """An attribute value as a string or a tuple of strings; QueryError for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise QueryError(
        f"user attribute {name!r} must be a string or a list of strings, "
        f"not {type(value).__name__}",
        hint='write it as "NA" or ["NA", "EMEA"]',
        attribute=name,
    )
