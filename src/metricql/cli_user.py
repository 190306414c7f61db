"""Command-line flags that run a query as an end user (see the README's Security section)."""

from __future__ import annotations

import argparse
import json

from metricql.context import UserContext
from metricql.errors import QueryError


def user_flags() -> argparse.ArgumentParser:
    """Flags that run a query as an end user: attributes, email, the custom-SQL permission."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument(
        "--user-attributes",
        metavar="JSON",
        help='run as a user with these attributes, e.g. \'{"region": ["NA", "EMEA"]}\'',
    )
    flags.add_argument("--user-email", help="run as a user with this email")
    flags.add_argument("--custom-sql", action="store_true", help="the user may write custom SQL")
    return flags


def user_from(args: argparse.Namespace) -> UserContext | None:
    """The user context the flags describe; None (a trusted caller) without any."""
    if args.user_attributes is None and args.user_email is None and not args.custom_sql:
        return None
    try:
        attributes = json.loads(args.user_attributes) if args.user_attributes else {}
    except json.JSONDecodeError as err:
        raise QueryError(
            f"--user-attributes is not JSON: {err.msg}",
            hint='pass an object, e.g. \'{"region": "NA"}\'',
        ) from None
    return UserContext(attributes=attributes, email=args.user_email, custom_sql=args.custom_sql)
