"""`field` / `table.field` references: one parser for every place that reads them."""

from __future__ import annotations

import pytest

from metricql.semantic.fields import BadReference, parse_field_ref


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [("amount", ("orders", "amount")), ("customers.country", ("customers", "country"))],
)
def test_parses_field_and_table_field(ref: str, parsed: tuple[str, str]) -> None:
    assert parse_field_ref(ref, "orders") == parsed


@pytest.mark.parametrize("ref", ["a.b.c", ".x", "x.", "", "."])
def test_other_shapes_are_bad_references(ref: str) -> None:
    with pytest.raises(BadReference) as err:
        parse_field_ref(ref, "orders")
    assert err.value.ref == ref


def test_no_default_table_needs_a_table() -> None:
    with pytest.raises(BadReference):
        parse_field_ref("amount", "")
