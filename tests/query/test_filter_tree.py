"""Walking a filter tree: every rule depth first, and a copy with each rule changed."""

from __future__ import annotations

from metricql.query.model import AndGroup, FilterRule, Filters, OrGroup, rules

TREE = Filters.model_validate(
    {
        "dimensions": {
            "id": "root",
            "and": [
                {"id": "a", "target": {"fieldId": "x"}, "operator": "equals", "values": [1]},
                {
                    "id": "inner",
                    "or": [
                        {"id": "b", "target": {"fieldId": "y"}, "operator": "isNull"},
                        {
                            "id": "deep",
                            "and": [
                                {"id": "c", "target": {"fieldId": "z"}, "operator": "notNull"},
                            ],
                        },
                    ],
                },
                {"id": "d", "target": {"fieldId": "x"}, "operator": "equals", "values": [2]},
            ],
        }
    }
).dimensions


def test_rules_are_depth_first() -> None:
    assert [r.id for r in rules(TREE)] == ["a", "b", "c", "d"]
    assert list(rules(None)) == []


def test_map_rules_keeps_the_shape() -> None:
    def renamed(rule: FilterRule) -> FilterRule:
        return rule.model_copy(update={"id": rule.id.upper()})

    assert isinstance(TREE, AndGroup)
    changed = TREE.map_rules(renamed)
    assert [r.id for r in rules(changed)] == ["A", "B", "C", "D"]
    assert isinstance(changed, AndGroup) and changed.id == "root"
    inner = changed.and_[1]
    assert isinstance(inner, OrGroup) and inner.id == "inner"
    assert isinstance(inner.or_[1], AndGroup)
    assert [r.id for r in rules(TREE)] == ["a", "b", "c", "d"]  # the original is untouched
