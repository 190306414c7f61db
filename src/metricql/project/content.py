"""Charts and dashboards as code: the YAML `lightdash download` writes, read and validated.

Layout: `lightdash/charts/<slug>.yml` and `lightdash/dashboards/<slug>.yml` (a folder holding
`lightdash/`, the `lightdash/` folder itself, a folder of YAML files, or one file). A chart
holds `name`, `slug`, `tableName`, `metricQuery` (Lightdash's MetricQuery; filter rules may
omit their ids) and `chartConfig`; a dashboard `name`, `slug`, `tiles` and `filters`.
SQL charts (a `sql` key, no `metricQuery`) are read and left out: they name no explore.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from metricql.errors import MetricQLError, ProjectError, QueryError
from metricql.project.yaml_io import read_yaml
from metricql.query.model import MetricQuery

__all__ = ["ChartAsCode", "Content", "DashboardAsCode", "load_chart", "load_content"]

_SUFFIXES = (".yml", ".yaml")


class _AsCode(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True
    )


class ChartAsCode(_AsCode):
    """A saved chart as code (`lightdash/charts/*.yml`)."""

    name: str
    slug: str = ""
    description: str | None = None
    table_name: str = ""
    metric_query: dict[str, Any]
    chart_config: dict[str, Any] = Field(default_factory=dict)
    table_config: dict[str, Any] = Field(default_factory=dict)
    file: str | None = None

    @property
    def explore_name(self) -> str:
        """The explore the chart queries (`metricQuery.exploreName`, else `tableName`)."""
        return str(self.metric_query.get("exploreName") or self.table_name)

    def query(self) -> MetricQuery:
        """The chart's metric query; a malformed one raises QueryError naming the file."""
        body = {**self.metric_query, "exploreName": self.explore_name}
        try:
            return MetricQuery.model_validate(body)
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            where = ".".join(map(str, first["loc"])) or "metricQuery"
            raise QueryError(
                f"chart {self.name!r}: metricQuery is not valid: {where}: {first['msg']}",
                hint="fix the chart's metricQuery (Lightdash's MetricQuery shape)",
                file=self.file,
            ) from None


class DashboardAsCode(_AsCode):
    """A dashboard as code (`lightdash/dashboards/*.yml`)."""

    name: str
    slug: str = ""
    tiles: tuple[dict[str, Any], ...] = ()
    filters: dict[str, Any] = Field(default_factory=dict)
    file: str | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """Everything read from a content folder, and the files that could not be read."""

    charts: tuple[ChartAsCode, ...] = ()
    dashboards: tuple[DashboardAsCode, ...] = ()
    problems: tuple[MetricQLError, ...] = ()


def load_content(path: str | Path) -> Content:
    """Charts and dashboards under `path` (see the module docstring)."""
    charts: list[ChartAsCode] = []
    dashboards: list[DashboardAsCode] = []
    problems: list[MetricQLError] = []
    for file in _files(Path(path)):
        try:
            item = _read(file)
        except MetricQLError as err:
            problems.append(err)
            continue
        if isinstance(item, ChartAsCode):
            charts.append(item)
        elif isinstance(item, DashboardAsCode):
            dashboards.append(item)
    return Content(tuple(charts), tuple(dashboards), tuple(problems))


def load_chart(path: str | Path) -> ChartAsCode:
    """One chart file; anything else raises ProjectError naming the file."""
    item = _read(Path(path))
    if not isinstance(item, ChartAsCode):
        raise ProjectError(
            "not a chart with a metricQuery",
            hint="pass a chart file written by `lightdash download` (lightdash/charts/*.yml)",
            file=str(path),
        )
    return item


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise ProjectError(
            "content folder not found",
            hint="pass the folder `lightdash download` wrote (holding charts/ and dashboards/)",
            file=str(path),
        )
    root = path / "lightdash" if (path / "lightdash").is_dir() else path
    yield from sorted(p for p in root.rglob("*") if p.suffix in _SUFFIXES and p.is_file())


def _read(file: Path) -> ChartAsCode | DashboardAsCode | None:
    data = read_yaml(file)
    if not isinstance(data, Mapping):
        raise ProjectError(
            "a chart or dashboard file must hold a mapping",
            hint="write the YAML `lightdash download` writes",
            file=str(file),
        )
    kind: type[ChartAsCode] | type[DashboardAsCode] | None = None
    if "metricQuery" in data:
        kind = ChartAsCode
    elif "tiles" in data:
        kind = DashboardAsCode
    if kind is None:
        return None  # SQL charts and other content name no explore
    try:
        return kind.model_validate({**data, "file": str(file)})
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        raise ProjectError(
            f"not a valid {kind.__name__}: {'.'.join(map(str, first['loc']))}: {first['msg']}",
            hint="fix the file, or download it again with `lightdash download`",
            file=str(file),
            line=getattr(data, "line_of", lambda _: None)(str(first["loc"][0])),
        ) from None
