"""Who is calling: `Authorization: ApiKey <token>` (Lightdash personal access tokens) or
`Bearer <token>` (service accounts), looked up in a token store.

A token store maps each token to `{email, attributes: {...}, custom_sql: bool, manage: bool}`:
`custom_sql` lets the user send custom SQL dimensions and raw SQL, `manage` lets them replace a
project's explores and validate its content. `serve` reads it from a YAML or JSON file;
`create_app` takes that mapping or any callable `token -> Principal | UserContext | None`.
Tokens are kept only as SHA-256 digests; the access log names a caller by email or digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from metricql import ProjectError, UserContext

__all__ = ["Principal", "TokenStore", "Unauthenticated", "authenticate", "load_tokens"]

_SCHEMES = ("apikey", "bearer")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: their user context and what they may manage."""

    user: UserContext
    manage: bool = False
    key: str = ""  # stable, non-secret id: per-user limits, job ownership, the access log


Lookup = Callable[[str], "Principal | UserContext | None"]


class Unauthenticated(Exception):
    """No valid token in the request."""


class TokenStore:
    """Tokens → principals, from a mapping (a parsed tokens file)."""

    def __init__(self, tokens: Mapping[str, Mapping[str, Any]]) -> None:
        self._by_digest = {_digest(t): _principal(t, entry) for t, entry in tokens.items()}

    def __call__(self, token: str) -> Principal | None:
        return self._by_digest.get(_digest(token))

    def __len__(self) -> int:
        return len(self._by_digest)


def load_tokens(path: str | Path) -> TokenStore:
    """A token store from YAML or JSON: `{tokens: {<token>: {email, attributes, …}}}` or
    the mapping itself."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as err:
        raise ProjectError(
            f"cannot read the tokens file: {err}",
            hint="write YAML: tokens: {<token>: {email: …, attributes: {…}, custom_sql: false}}",
            file=str(file),
        ) from None
    tokens = data.get("tokens", data) if isinstance(data, Mapping) else None
    if not isinstance(tokens, Mapping) or not all(
        isinstance(k, str) and isinstance(v, Mapping) for k, v in tokens.items()
    ):
        raise ProjectError(
            "the tokens file must map each token to {email, attributes, custom_sql}",
            hint="tokens: {my-token: {email: ana@example.com, attributes: {region: EU}}}",
            file=str(file),
        )
    return TokenStore(tokens)


def authenticate(header: str | None, lookup: Lookup) -> Principal:
    """The principal of an `Authorization` header; Unauthenticated when there is none."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in _SCHEMES or not token:
        raise Unauthenticated("send Authorization: ApiKey <personal access token>")
    found = lookup(token)
    if isinstance(found, UserContext):
        found = Principal(user=found)
    if not isinstance(found, Principal):
        raise Unauthenticated("the token is not valid")
    if not found.key:
        found = Principal(found.user, found.manage, found.user.email or _digest(token)[:12])
    return found


def _principal(token: str, entry: Mapping[str, Any]) -> Principal:
    attributes = entry.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise ProjectError(
            "a token's attributes must be a mapping",
            hint="attributes: {region: EU, teams: [a, b]}",
        )
    values = {
        str(k): tuple(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
        for k, v in attributes.items()
    }
    email = entry.get("email")
    user = UserContext(
        attributes=values,
        email=str(email) if email is not None else None,
        user_uuid=str(entry["user_uuid"]) if entry.get("user_uuid") else None,
        custom_sql=bool(entry.get("custom_sql", False)),
    )
    return Principal(
        user=user, manage=bool(entry.get("manage", False)), key=user.email or _digest(token)[:12]
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
