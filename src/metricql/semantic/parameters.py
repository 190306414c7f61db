"""Lightdash parameters: definitions, and a supplied value made a typed SQL literal.

Definitions come from `lightdash.config.yml` (`parameters:`, referenced as
`${lightdash.parameters.<name>}`) and from a model's `meta.parameters` (referenced as
`${lightdash.parameters.<model>.<name>}`); `ld.` works for `lightdash.`. References are
markers in the explore's trees; a value becomes a literal only at compile time, never text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from metricql.errors import QueryError
from metricql.project.schema import ParameterSchema, ProjectSchema
from metricql.semantic.fields import friendly_name

PREFIXES = ("lightdash.parameters.", "ld.parameters.")


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter definition; `name` is `<name>` or `<model>.<name>` as referenced."""

    name: str
    label: str
    type: str = "string"  # string | number | date
    description: str | None = None
    options: tuple[Any, ...] = ()
    default: Any = None
    multiple: bool = False
    allow_custom_values: bool = False
    options_from_dimension: tuple[str, str] | None = None  # (model, dimension)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as Lightdash lists parameters for UIs."""
        out: dict[str, Any] = {"name": self.name, "label": self.label, "type": self.type}
        extra = {
            "description": self.description,
            "options": list(self.options) or None,
            "default": list(self.default) if isinstance(self.default, tuple) else self.default,
            "multiple": self.multiple or None,
            "allowCustomValues": self.allow_custom_values or None,
        }
        out.update({k: v for k, v in extra.items() if v is not None})
        if self.options_from_dimension:
            model, dimension = self.options_from_dimension
            out["optionsFromDimension"] = {"model": model, "dimension": dimension}
        return out


def parameter_name(ref: str) -> str | None:
    """`lightdash.parameters.region` → `region` (`ld.` too); None for other references."""
    for prefix in PREFIXES:
        if ref.startswith(prefix) and len(ref) > len(prefix):
            return ref[len(prefix) :]
    return None


def _number(value: Any, name: str) -> exp.Expr:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _bad(name, value, "a number")
    try:
        number = float(value) if isinstance(value, str) else value
    except ValueError:
        raise _bad(name, value, "a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _bad(name, value, "a finite number")
    return exp.Literal.number(value if not isinstance(value, str) else value.strip())


def _date(value: Any, name: str) -> exp.Expr:
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise _bad(name, value, "a date (YYYY-MM-DD)") from None
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)


def _string(value: Any, name: str) -> exp.Expr:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise _bad(name, value, "text")
    return exp.Literal.string(str(value))


LITERALS: Mapping[str, Callable[[Any, str], exp.Expr]] = {
    "string": _string,
    "number": _number,
    "date": _date,
}


def _bad(name: str, value: Any, what: str) -> QueryError:
    return QueryError(
        f"parameter {name!r} must be {what}, got {value!r}",
        hint=f"pass a valid value for {name!r}",
        parameter=name,
    )


def parameter_value(parameter: Parameter, supplied: Mapping[str, Any]) -> Any:
    """The value of `parameter` for a query (supplied, else its default), checked against its
    options; a missing value without default is a QueryError naming it."""
    name = parameter.name
    value = supplied.get(name, parameter.default)
    if value is None or value == [] or value == ():
        raise QueryError(
            f"missing value for parameter {name!r}, which has no default",
            hint=f"pass parameters={{{name!r}: ...}} (or `parameters` in the query JSON)",
            parameter=name,
        )
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(values) > 1 and not parameter.multiple:
        raise QueryError(
            f"parameter {name!r} takes one value, got {len(values)}",
            hint="give one value, or set `multiple: true` on the parameter",
            parameter=name,
        )
    if parameter.options and not parameter.allow_custom_values:
        allowed = {str(o) for o in parameter.options}
        for v in values:
            if str(v) not in allowed:
                raise QueryError(
                    f"value {v!r} of parameter {name!r} is not one of its options",
                    hint=f"options: {', '.join(map(str, parameter.options))}",
                    parameter=name,
                )
    return tuple(values) if parameter.multiple else values[0]


def parameter_literal(parameter: Parameter, value: Any) -> exp.Expr:
    """A checked value as a typed literal (a tuple of them when the parameter is multiple)."""
    build = LITERALS[parameter.type]
    if isinstance(value, tuple):
        return exp.Tuple(expressions=[build(v, parameter.name) for v in value])
    return build(value, parameter.name)


def project_parameters(project: ProjectSchema) -> dict[str, Parameter]:
    """Every parameter: lightdash.config.yml's by name, each model's as `<model>.<name>`."""
    out = {n: parameter_definition(n, p) for n, p in project.parameters.items()}
    for model in project.models:
        out.update(
            {
                f"{model.name}.{n}": parameter_definition(f"{model.name}.{n}", p)
                for n, p in model.meta.parameters.items()
            }
        )
    return out


def parameter_config(parameter: Parameter) -> dict[str, Any]:
    """The definition as Lightdash's YAML writes it (a model's `meta.parameters` entry)."""
    out = {
        k: v for k, v in parameter.to_dict().items() if k not in ("name", "optionsFromDimension")
    }
    if "allowCustomValues" in out:
        out["allow_custom_values"] = out.pop("allowCustomValues")
    if parameter.options_from_dimension:
        model, dimension = parameter.options_from_dimension
        out["options_from_dimension"] = {"model": model, "dimension": dimension}
    return out


def parameter_definition(name: str, schema: ParameterSchema) -> Parameter:
    """The definition of parameter `name` (`<name>` or `<model>.<name>`) from its YAML."""
    source = schema.options_from_dimension
    return Parameter(
        name=name,
        label=schema.label or friendly_name(name.rpartition(".")[2]),
        type=schema.type,
        description=schema.description,
        options=schema.options,
        default=tuple(schema.default) if isinstance(schema.default, list) else schema.default,
        multiple=schema.multiple,
        allow_custom_values=schema.allow_custom_values or source is not None,
        options_from_dimension=(source.model, source.dimension) if source else None,
    )
