"""Charts and dashboards as code checked against a project's explores (ValidateProject).

Every broken reference is reported, all at once, as a `ContentProblem` naming the chart or
dashboard, the field and a suggestion. Error types are Lightdash's: `model` (the explore is
gone), `dimension`, `metric`, `filter`, `sorting`, `custom metric`, `chart configuration`,
and `chart` (the query fails to compile for another reason, or a tile's chart is missing).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metricql.errors import MetricQLError
from metricql.semantic.explore import Explore

if TYPE_CHECKING:
    from metricql.api import Project
    from metricql.project.content import ChartAsCode, Content, DashboardAsCode

__all__ = ["ContentProblem", "validate_content"]


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One broken reference in a chart or dashboard."""

    source: str  # "chart" | "dashboard"
    name: str
    slug: str
    error_type: str
    error: str
    field_name: str | None = None
    suggestion: str | None = None
    chart_name: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Lightdash's ValidationResponse keys (camelCase), plus `suggestion`, `slug`, `file`."""
        out: dict[str, Any] = {
            "source": self.source,
            "name": self.name,
            "slug": self.slug,
            "errorType": self.error_type,
            "error": self.error,
        }
        extra = {
            "fieldName": self.field_name,
            "suggestion": self.suggestion,
            "chartName": self.chart_name,
            "file": self.file,
        }
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        hint = f" ({self.suggestion})" if self.suggestion else ""
        return f"{where}{self.source} {self.name!r}: {self.error}{hint}"


def validate_content(project: Project, content: Content) -> list[ContentProblem]:
    """Every problem of every chart and dashboard in `content` against `project`."""
    slugs = {c.slug for c in content.charts}
    problems = [p for chart in content.charts for p in _chart(project, chart)]
    problems += [p for d in content.dashboards for p in _dashboard(project, d, slugs)]
    return problems


def _chart(project: Project, chart: ChartAsCode) -> list[ContentProblem]:
    def problem(found: Found) -> ContentProblem:
        kind, error, fid, close = found
        return ContentProblem(
            "chart",
            chart.name,
            chart.slug,
            kind,
            error,
            fid,
            _suggest(fid, close),
            None,
            chart.file,
        )

    explore = project.explores.get(chart.explore_name)
    if explore is None:
        name = chart.explore_name
        return [problem(("model", f"explore {name!r} does not exist", name, project.explores))]
    fields = _ChartFields(chart.metric_query, explore)
    found = [problem(f) for f in (*fields.selection(), *fields.extras(chart.chart_config))]
    if found:
        return found
    try:
        project.compile(chart.query())
    except MetricQLError as err:  # any other reason the saved query no longer compiles
        return [problem(("chart", err.message, None, ()))]
    return []


Found = tuple[str, str, "str | None", Iterable[str]]  # type, message, field id, candidates


class _ChartFields:
    """The fields a chart's metric query names, checked against its explore."""

    def __init__(self, query: Mapping[str, Any], explore: Explore) -> None:
        self.query = query
        self.explore = explore
        self.dims, self.metrics = set(explore.dimensions), set(explore.metrics)
        self.custom = {str(d.get("id")) for d in _dicts(query.get("customDimensions"))}
        self.extra = {
            f"{m.get('table')}_{m.get('name')}" for m in _dicts(query.get("additionalMetrics"))
        }
        calcs = {str(c.get("name")) for c in _dicts(query.get("tableCalculations"))}
        self.calcs = calcs
        self.selected = {
            *_strings(query.get("dimensions")),
            *_strings(query.get("metrics")),
            *calcs,
        }

    def selection(self) -> Iterator[Found]:
        """Dimensions, metrics, filter targets and sorts that name missing fields."""
        name = self.explore.name
        for fid in _strings(self.query.get("dimensions")):
            if fid not in self.dims | self.custom:
                yield (
                    "dimension",
                    f"dimension {fid!r} no longer exists in explore {name!r}",
                    fid,
                    self.dims,
                )
        for fid in _strings(self.query.get("metrics")):
            if fid not in self.metrics | self.extra:
                yield (
                    "metric",
                    f"metric {fid!r} no longer exists in explore {name!r}",
                    fid,
                    self.metrics,
                )
        every = self.dims | self.metrics | self.custom | self.extra | self.calcs
        for fid in _filter_targets(self.query.get("filters")):
            if fid not in every:
                yield "filter", f"filter on {fid!r}, a field explore {name!r} lacks", fid, every
        for fid in (str(s.get("fieldId")) for s in _dicts(self.query.get("sorts"))):
            if fid not in self.selected | self.custom:
                yield (
                    "sorting",
                    f"sort on {fid!r}, which the query does not select",
                    fid,
                    self.selected,
                )

    def extras(self, config: Mapping[str, Any]) -> Iterator[Found]:
        """Custom dimensions and metrics built on missing fields; plotted fields not selected."""
        for dim in _dicts(self.query.get("customDimensions")):
            parent = dim.get("dimensionId")
            if parent is not None and parent not in self.dims:
                why = (
                    f"custom dimension {dim.get('name')!r} bins {parent!r}, which no longer exists"
                )
                yield "dimension", why, str(parent), self.dims
        for metric in _dicts(self.query.get("additionalMetrics")):
            table, base = metric.get("table"), metric.get("baseDimensionName")
            label = f"custom metric {metric.get('name')!r}"
            if table not in self.explore.tables:
                why = f"{label} is on table {table!r}, which is not in the explore"
                yield "custom metric", why, str(table), self.explore.tables
            elif base and f"{table}_{base}" not in self.dims:
                why = f"{label} is built on {base!r}, which no longer exists"
                yield "custom metric", why, f"{table}_{base}", self.dims
        for fid in _config_fields(config):
            if fid not in self.selected | self.custom | self.extra:
                why = f"the chart plots {fid!r}, which the query does not select"
                yield "chart configuration", why, fid, self.selected


def _dashboard(
    project: Project, dash: DashboardAsCode, chart_slugs: set[str]
) -> list[ContentProblem]:
    def problem(
        kind: str,
        error: str,
        fid: str | None,
        wrong: str,
        close: Iterable[str],
        chart: str | None = None,
    ) -> ContentProblem:
        hint = _suggest(wrong, close)
        return ContentProblem(
            "dashboard", dash.name, dash.slug, kind, error, fid, hint, chart, dash.file
        )

    out = []
    for tile in dash.tiles:
        slug = _mapping(tile.get("properties")).get("chartSlug")
        if tile.get("type") == "saved_chart" and slug and chart_slugs and slug not in chart_slugs:
            why = f"tile shows chart {slug!r}, which does not exist"
            out.append(problem("chart", why, None, str(slug), chart_slugs, str(slug)))
    for group in ("dimensions", "metrics"):
        for rule in _dicts(_mapping(dash.filters).get(group)):
            target = _mapping(rule.get("target"))
            table, fid = str(target.get("tableName", "")), str(target.get("fieldId", ""))
            explore = project.explores.get(table)
            if explore is None:
                why = f"filter on table {table!r}, which is no explore"
                out.append(problem("filter", why, fid, table, project.explores))
            elif fid not in {**explore.dimensions, **explore.metrics}:
                why = f"filter on {fid!r}, a field explore {table!r} lacks"
                out.append(
                    problem("filter", why, fid, fid, [*explore.dimensions, *explore.metrics])
                )
    return out


def _config_fields(config: Mapping[str, Any]) -> Iterator[str]:
    """Field ids a chart's visual config plots (cartesian axes, big number, pie groups)."""
    inner = _mapping(config.get("config"))
    layout = _mapping(inner.get("layout"))
    yield from _strings([layout.get("xField")] if layout.get("xField") else [])
    yield from _strings(layout.get("yField"))
    yield from _strings([inner.get("selectedField")] if inner.get("selectedField") else [])
    yield from _strings(inner.get("groupFieldIds"))


def _filter_targets(group: Any) -> Iterator[str]:
    if isinstance(group, Mapping):
        target = group.get("target")
        if isinstance(target, Mapping) and "fieldId" in target:
            yield str(target["fieldId"])
        for key in ("dimensions", "metrics", "tableCalculations", "and", "or"):
            yield from _filter_targets(group.get(key))
    elif isinstance(group, list):
        for item in group:
            yield from _filter_targets(item)


def _suggest(field: str | None, candidates: Iterable[str]) -> str | None:
    if not field:
        return None
    close = difflib.get_close_matches(field, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _strings(value: Any) -> Sequence[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
