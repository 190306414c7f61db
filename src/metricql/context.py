"""Who runs a query: the user context that attributes, intrinsic values and access checks read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UserContext:
    """Who runs the query: user attributes (`${lightdash.attributes.x}`) and intrinsic fields."""

    attributes: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    email: str | None = None
    user_uuid: str | None = None
    custom_sql: bool = False
    """Permission to send custom SQL; enforced by the compiler."""

    def intrinsic(self, name: str) -> str | None:
        """`${lightdash.user.<name>}` value."""
        return {"email": self.email, "uuid": self.user_uuid, "user_uuid": self.user_uuid}.get(name)
