"""Command-line flags of a query: who runs it (see the README's Security section) and the
Lightdash parameter values it takes."""

from __future__ import annotations

import argparse
import json
from collections.abc import Collection
from typing import Any

from metricql.context import UserContext
from metricql.errors import QueryError, did_you_mean


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


def parameter_flags() -> argparse.ArgumentParser:
    """`--param name=value`: a Lightdash parameter value (repeat a name for several values)."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Lightdash parameter value, e.g. region=US (repeat NAME for a multiple one)",
    )
    return flags


def parameters_from(args: argparse.Namespace, known: Collection[str]) -> dict[str, Any]:
    """The `--param` values by name (a list when a name repeats), each name one of `known`;
    the values are checked against their definitions when the query compiles."""
    values: dict[str, list[str]] = {}
    for given in args.param:
        name, sep, value = given.partition("=")
        name = name.strip()
        if not sep or not name:
            raise QueryError(
                f"--param {given!r} is not NAME=VALUE",
                hint="e.g. --param region=US (or --param orders.fx_rate=1.1)",
            )
        if name not in known:
            raise QueryError(
                f"--param names {name!r}, which the project does not define",
                hint=did_you_mean(name, known, otherwise=f"parameters: {_listed(known)}"),
                parameter=name,
            )
        values.setdefault(name, []).append(value)
    return {n: v[0] if len(v) == 1 else v for n, v in values.items()}


def _listed(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "none"
