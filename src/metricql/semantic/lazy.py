"""Explores built on first use.

A load validates the whole project with the eager build (so every error is found and reported
exactly as before) and keeps only what that build reported (`Validation`) plus each model's
definition as pickled bytes. The sqlglot trees of an explore are built again when a query
first asks for it, from the models it reads; the rest of the project stays a few bytes per
model instead of thousands of live tree nodes.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial

from metricql.errors import Issue, MetricQLError
from metricql.project.schema import ModelSchema, ProjectSchema
from metricql.semantic.build import ExploreErrors, build_explores, build_one
from metricql.semantic.explore import Explore
from metricql.semantic.granularities import custom_granularities
from metricql.semantic.models import ModelDef, field_read_errors, model_def
from metricql.semantic.parameters import Parameter, project_parameters
from metricql.semantic.stream import validate_each
from metricql.semantic.tables import TableCache

Attributes = Mapping[str, tuple[str, ...]]
# summary, the explore's own required_attributes, its base table's required and any_attributes
Listing = tuple[dict[str, object], Attributes, Attributes, tuple[Attributes, ...]]


@dataclass(frozen=True, slots=True)
class Validation:
    """What the eager build of a project reported, without the explores themselves."""

    owners: Mapping[str, str]  # every built explore (in build order) → the model it is on
    broken: ExploreErrors
    field_errors: Mapping[str, tuple[MetricQLError, ...]]  # per explore: fields left out
    issues: Mapping[str, tuple[Issue, ...]]  # per explore: its warnings
    read_errors: Mapping[str, Mapping[str, MetricQLError]]  # model → field left out reading it
    parameters: Mapping[str, Parameter]
    origins: Mapping[str, str]  # model → how its relation was named
    # per explore: its explores-list entry and who may see it (its own and its base table's
    # required attributes), so listing builds nothing; filled by the loader
    listing: Mapping[str, Listing] = field(default_factory=dict)


_Record = tuple[str, tuple[MetricQLError, ...], tuple[Issue, ...], Listing]


def validate(schema: ProjectSchema, summarise: Callable[[Explore], Listing]) -> Validation:
    """What the eager build of `schema` reports, built explore by explore in bounded memory
    (`semantic.stream`): each explore is summarised and let go."""
    records, broken = validate_each(schema, _dialect(schema), partial(_record, summarise))
    return _validation(schema, records, broken)


def validate_eager(
    schema: ProjectSchema, summarise: Callable[[Explore], Listing]
) -> tuple[dict[str, Explore], Validation]:
    """The eager build of `schema`, and what it reported."""
    explores, broken = build_explores(schema)
    records = {name: _record(summarise, explore) for name, explore in explores.items()}
    return explores, _validation(schema, records, broken)


def _record(summarise: Callable[[Explore], Listing], explore: Explore) -> _Record:
    for error in explore.errors:  # its frames would keep the build's trees alive
        error.__traceback__ = None
    owner = explore.tables[explore.base_table].original_name
    return owner, explore.errors, explore.issues, summarise(explore)


def _validation(
    schema: ProjectSchema, records: Mapping[str, _Record], broken: ExploreErrors
) -> Validation:
    for errors in broken.values():
        for error in errors:
            error.__traceback__ = None
    return Validation(
        owners={n: r[0] for n, r in records.items()},
        broken=broken,
        field_errors={n: r[1] for n, r in records.items()},
        issues={n: r[2] for n, r in records.items()},
        read_errors=field_read_errors(schema),
        parameters=project_parameters(schema),
        origins={m.name: m.relation_origin for m in schema.models if m.relation_origin},
        listing={n: r[3] for n, r in records.items()},
    )


def pickled_models(schema: ProjectSchema) -> dict[str, bytes]:
    """Each model's parsed YAML as bytes: a tenth of its live size, read back on first use."""
    return {m.name: pickle.dumps(m, protocol=pickle.HIGHEST_PROTOCOL) for m in schema.models}


class _Defs(Mapping[str, ModelDef]):
    """Model definitions of the models that built at validation, each parsed on first use."""

    def __init__(
        self, models: Mapping[str, bytes], schema: ProjectSchema, validation: Validation
    ) -> None:
        self._models = models
        self._project = schema.model_copy(update={"models": ()})
        self._dialect = _dialect(schema)
        self._read_errors = validation.read_errors
        self._built: dict[str, ModelDef] = {}

    def __getitem__(self, name: str) -> ModelDef:
        found = self._built.get(name)
        if found is None:
            # Our own bytes, made by pickled_models (or read from an authenticated cache).
            model: ModelSchema = pickle.loads(self._models[name])
            errors = self._read_errors.get(name, {})
            found = model_def(model, self._project, self._dialect, errors)
            self._built[name] = found
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)


def explore_builder(
    models: Mapping[str, bytes], schema: ProjectSchema, validation: Validation
) -> Callable[[str], Explore]:
    """Build one validated explore by name, byte for byte as the eager build makes it."""
    dialect = _dialect(schema)
    defs = _Defs(models, schema, validation)
    grains = custom_granularities(schema, dialect)
    shared: TableCache = {}

    def build(name: str) -> Explore:
        model = defs[validation.owners[name]]
        return build_one(model, name, defs, dialect, shared, validation.parameters, grains)

    return build


def _dialect(schema: ProjectSchema) -> str:
    return schema.source_dialect or (schema.target.dialect if schema.target else "duckdb")


class LazyExplores(Mapping[str, Explore]):
    """The validated explores by name; each is built on first access, once, thread-safely."""

    def __init__(
        self,
        validation: Validation,
        build: Callable[[str], Explore],
        after_build: Callable[[], None],
    ) -> None:
        self.validation = validation
        self._build = build
        self._after_build = after_build  # e.g. move the new trees out of the GC's reach
        self._built: dict[str, Explore] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Explore:
        found = self._built.get(name)
        if found is not None:
            return found
        if name not in self.validation.owners:
            raise KeyError(name)
        with self._lock:  # one build at a time: they share the table and definition caches
            found = self._built.get(name)
            if found is None:
                found = self._build(name)
                self._built[name] = found
                self._after_build()
        return found

    def __contains__(self, name: object) -> bool:
        return name in self.validation.owners

    def __iter__(self) -> Iterator[str]:
        return iter(self.validation.owners)

    def __len__(self) -> int:
        return len(self.validation.owners)

    @property
    def built(self) -> int:
        """How many explores have been built so far."""
        return len(self._built)


__all__ = [
    "LazyExplores",
    "Validation",
    "explore_builder",
    "pickled_models",
    "validate",
    "validate_eager",
]
