"""Keep credentials out of errors: the profile fields that hold secrets, and redaction.

Driver messages are passed on (they say what went wrong) with every secret value of the
target, and anything shaped like `password=…` or `user:secret@host`, replaced by `***`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Profile fields whose values are secrets, across the dbt adapters metricql reads.
SECRET_FIELDS = frozenset(
    {
        "password",
        "pass",
        "token",
        "access_token",
        "refresh_token",
        "jwt_token",
        "client_secret",
        "oauth_client_secret",
        "private_key",
        "private_key_passphrase",
        "keyfile_json",
        "aws_secret_access_key",
        "aws_session_token",
        "api_key",
    }
)
MASK = "***"
_MIN_SECRET = 3  # shorter values would mask ordinary words of a message
_PATTERNS = (
    re.compile(
        r"(?i)\b(password|passwd|pwd|token|secret|access_token)\s*[=:]\s*('[^']*'|\"[^\"]*\"|\S+)"
    ),
    re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]+(?=@)"),  # user:secret@ in a URL
)


def secret_values(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The text of every secret field (nested mappings included), longest first."""
    found: list[str] = []
    for key, value in settings.items():
        if isinstance(value, Mapping):
            found += secret_values(value)
            if key in SECRET_FIELDS:
                found += [str(v) for v in value.values() if isinstance(v, (str, int))]
        elif key in SECRET_FIELDS and value is not None:
            found.append(str(value))
    return tuple(sorted({s for s in found if len(s) >= _MIN_SECRET}, key=len, reverse=True))


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with each of `secrets`, and anything shaped like a credential, masked."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}={MASK}", text)
    return _PATTERNS[1].sub(MASK, text)
