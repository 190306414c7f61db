"""What ORDER BY reads for a result column: calendar order for month and day names, bin order
for custom bins, else the column itself."""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from metricql.compiler.features.custom_dimensions import CustomDim
from metricql.compiler.sql.names import column
from metricql.compiler.sql.timeframes import calendar_order
from metricql.semantic.explore import Explore
from metricql.semantic.fields import TimeInterval

_NAME_INTERVALS = (TimeInterval.MONTH_NAME, TimeInterval.DAY_OF_WEEK_NAME)


def sort_key(explore: Explore, custom: Mapping[str, CustomDim], field_id: str) -> exp.Expr:
    """The expression to ORDER BY for the result column `field_id`."""
    dim = explore.dimensions.get(field_id)
    if dim is not None and dim.time_interval in _NAME_INTERVALS:
        order = calendar_order(column(field_id), dim.time_interval, None)
        if isinstance(order, exp.Case):  # NULL (no date) sorts with the NULLs, not before January
            order.set("default", exp.null())
        if order is not None:
            return order
    bin_dim = custom.get(field_id)
    if bin_dim is not None and bin_dim.order is not None:
        return column(bin_dim.order_id)
    return column(field_id)
