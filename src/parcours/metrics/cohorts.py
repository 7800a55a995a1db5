"""Cohort triangles: retention and cumulative revenue per customer by acquisition month."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from parcours.engine import Engine
from parcours.schema import CUSTOMER_KEY

ALL = "all"


def month_index(value: ibis.Value) -> ibis.IntegerValue:
    """Months since year 0: consecutive months differ by one."""
    return value.year().cast("int64") * 12 + value.month().cast("int64")


def cohort_triangles(
    engine: Engine, bought: ibis.Table, profile: ibis.Table, as_of: dt.date
) -> ibis.Table:
    """Retention and cumulative revenue per customer, per cohort and months since acquisition.

    Parameters
    ----------
    engine : Engine
        Builds the small table of month offsets.
    bought : ibis.Table
        The purchases.
    profile : ibis.Table
        ``customer_profile`` (``first_order_at``, ``first_channel``).
    as_of : datetime.date
        The last month of the triangle is as-of's.

    Returns
    -------
    ibis.Table
        The ``kpi_cohorts`` rows: every (cohort, months since) cell up to as-of, empty
        months included, for each first channel and for ``all``.
    """
    first = profile.filter(profile.orders > 0)
    first = first.select(
        CUSTOMER_KEY,
        "first_channel",
        cohort_month=first.first_order_at.truncate("M").date(),
        _cohort_index=month_index(first.first_order_at),
    )
    j = bought.join(first, CUSTOMER_KEY)
    j = j.mutate(months_since=month_index(j.ordered_at) - j._cohort_index)
    sizes = first.group_by("cohort_month", "first_channel").aggregate(
        cohort_customers=first.count(), _cohort_index=first._cohort_index.min()
    )
    cells = j.group_by("cohort_month", "first_channel", "months_since").aggregate(
        active_customers=j[CUSTOMER_KEY].nunique(), revenue=j.total_amount.sum()
    )
    all_sizes = sizes.group_by("cohort_month").aggregate(
        cohort_customers=sizes.cohort_customers.sum(), _cohort_index=sizes._cohort_index.min()
    )
    all_cells = j.group_by("cohort_month", "months_since").aggregate(
        active_customers=j[CUSTOMER_KEY].nunique(), revenue=j.total_amount.sum()
    )
    sizes = sizes.union(all_sizes.mutate(first_channel=ibis.literal(ALL)).select(*sizes.columns))
    cells = cells.union(all_cells.mutate(first_channel=ibis.literal(ALL)).select(*cells.columns))

    span = engine.execute(first._cohort_index.min())
    last = as_of.year * 12 + as_of.month
    n = 1 if span is None else max(1, last - int(span) + 1)
    months = engine.from_arrow(
        pa.table({"months_since": pa.array(range(n), pa.int64())}), "kpi_month_offsets"
    )
    grid = sizes.cross_join(months)
    grid = grid.filter(grid._cohort_index + grid.months_since <= last)
    g = grid.left_join(
        cells,
        [
            grid.cohort_month == cells.cohort_month,
            grid.first_channel == cells.first_channel,
            grid.months_since == cells.months_since,
        ],
    ).select(
        grid.cohort_month,
        grid.first_channel,
        grid.months_since,
        grid.cohort_customers,
        active_customers=cells.active_customers.fill_null(0),
        revenue=cells.revenue.fill_null(0.0),
    )
    cumulative = g.revenue.sum().over(
        ibis.cumulative_window(group_by=[g.cohort_month, g.first_channel], order_by=g.months_since)
    )
    return g.select(
        "cohort_month",
        "first_channel",
        "months_since",
        cohort_customers=g.cohort_customers.cast("int64"),
        active_customers=g.active_customers.cast("int64"),
        retention=g.active_customers.cast("float64") / g.cohort_customers,
        revenue=g.revenue,
        cumulative_revenue_per_customer=cumulative / g.cohort_customers,
    )
