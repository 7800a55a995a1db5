"""Customer-knowledge KPIs per segment and per period, and ``write_kpis`` for every KPI table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis

from parcours.engine import Engine
from parcours.errors import UserInputError
from parcours.facts import PROFILE, as_date, purchases
from parcours.metrics.categories import renewal_times
from parcours.metrics.channels import recruitment_paths
from parcours.metrics.cohorts import cohort_triangles
from parcours.metrics.delays import second_purchase_delays
from parcours.schema import (
    CUSTOMER_CATEGORIES,
    CUSTOMER_KEY,
    KPI_COHORTS,
    KPI_PERIODS,
    KPI_RECRUITMENT,
    KPI_RENEWAL,
    KPI_SECOND_PURCHASE,
    KPI_SEGMENTS,
)
from parcours.workspace import Workspace

STAGE = "kpis"
ALL = "all"
UNKNOWN = "unknown"
# The segmentations KPIs are given for, when the profile has them (later stages add some).
DIMENSIONS = ("channel_mix", "lifecycle_segment", "rfm_segment", "persona", "age_band")


def _segment_stats(t: ibis.Table) -> dict[str, ibis.Value]:
    active = t.active.sum().cast("int64")
    period_orders = t.purchase_frequency.sum()
    return {
        "customers": t.count(),
        "active_customers": active,
        "purchase_frequency": period_orders.cast("float64") / active.nullif(0),
        "average_basket": t.period_revenue.sum() / period_orders.nullif(0),
        "period_revenue": t.period_revenue.sum(),
        "revenue_per_active": t.period_revenue.sum() / active.nullif(0),
        "revenue_per_customer": t.revenue.mean(),
    }


def segment_kpis(profile: ibis.Table, dimensions: tuple[str, ...] = DIMENSIONS) -> ibis.Table:
    """Activity, frequency, basket and value per segment of each segmentation.

    Parameters
    ----------
    profile : ibis.Table
        ``customer_profile``.
    dimensions : tuple of str
        Segment columns to break down by; those missing from ``profile`` are skipped.

    Returns
    -------
    ibis.Table
        The ``kpi_segments`` rows, over customers with at least one purchase: the whole
        population (dimension ``all``), then each segment (``unknown`` when null).
    """
    p = profile.filter(profile.orders > 0)
    parts = [
        p.aggregate(**_segment_stats(p)).mutate(
            dimension=ibis.literal(ALL), segment=ibis.literal(ALL)
        )
    ]
    for dim in dimensions:
        if dim not in p.columns:
            continue
        g = p.mutate(segment=p[dim].cast("string").fill_null(UNKNOWN))
        parts.append(
            g.group_by("segment").aggregate(**_segment_stats(g)).mutate(dimension=ibis.literal(dim))
        )
    cols = ["dimension", "segment", *_segment_stats(p)]
    t = ibis.union(*[x.select(*cols) for x in parts])
    w = ibis.window(group_by=t.dimension)
    return t.select(
        "dimension",
        "segment",
        customers=t.customers.cast("int64"),
        customer_share=t.customers.cast("float64") / t.customers.sum().over(w),
        active_customers="active_customers",
        activity_rate=t.active_customers.cast("float64") / t.customers,
        purchase_frequency="purchase_frequency",
        average_basket="average_basket",
        period_revenue=t.period_revenue.fill_null(0.0),
        revenue_per_active="revenue_per_active",
        revenue_per_customer="revenue_per_customer",
        revenue_share=t.period_revenue / t.period_revenue.sum().over(w).nullif(0),
    )


def period_kpis(bought: ibis.Table, unit: str) -> ibis.Table:
    """Buyers, recruits, activity, orders and revenue per calendar period.

    Parameters
    ----------
    bought : ibis.Table
        The purchases.
    unit : {"month", "quarter", "year"}
        The period.

    Returns
    -------
    ibis.Table
        The ``kpi_periods`` rows, one per period with a purchase. ``activity_rate`` is the
        share of the customers recruited so far who bought in the period.
    """
    code = {"month": "M", "quarter": "Q", "year": "Y"}[unit]
    b = bought.mutate(period_start=bought.ordered_at.truncate(code).date())
    per = b.group_by("period_start").aggregate(
        buyers=b[CUSTOMER_KEY].nunique(), orders=b.count(), revenue=b.total_amount.sum()
    )
    firsts = b.group_by(CUSTOMER_KEY).aggregate(period_start=b.period_start.min())
    recruits = firsts.group_by("period_start").aggregate(new_customers=firsts.count())
    j = per.left_join(recruits, per.period_start == recruits.period_start).select(
        per.period_start,
        per.buyers,
        per.orders,
        per.revenue,
        new_customers=recruits.new_customers.fill_null(0),
    )
    known = j.new_customers.sum().over(ibis.cumulative_window(order_by=j.period_start))
    return j.select(
        "period_start",
        buyers=j.buyers.cast("int64"),
        new_customers=j.new_customers.cast("int64"),
        known_customers=known.cast("int64"),
        activity_rate=j.buyers.cast("float64") / known,
        orders=j.orders.cast("int64"),
        revenue=j.revenue,
        average_basket=j.revenue / j.orders,
        purchase_frequency=j.orders.cast("float64") / j.buyers,
    )


def read_profile(engine: Engine) -> tuple[ibis.Table, dt.date]:
    """``customer_profile`` and its as-of date; a clear error when it is not built yet."""
    if not engine.has_table(PROFILE):
        raise UserInputError("no customer profile yet", hint="run: parcours profile")
    profile = engine.table(PROFILE)
    as_of = engine.execute(profile.as_of.max())
    if as_of is None:
        raise UserInputError("the customer profile is empty", hint="run: parcours profile")
    return profile, as_date(as_of)


@dataclass(frozen=True)
class KpiReport:
    """What ``write_kpis`` wrote: the as-of date and the tables, by name."""

    as_of: dt.date
    tables: tuple[str, ...]


def write_kpis(ws: Workspace) -> KpiReport:
    """Write every KPI table from ``customer_profile`` and the purchases up to its date.

    Parameters
    ----------
    ws : Workspace
        The workspace; ``parcours profile`` must have run.

    Returns
    -------
    KpiReport
        The as-of date and the tables written.

    Raises
    ------
    UserInputError
        When the profile does not exist yet.
    """
    engine = ws.engine
    profile, as_of = read_profile(engine)
    bought = purchases(engine, as_of)
    exprs = {
        KPI_SEGMENTS: segment_kpis(profile),
        KPI_PERIODS: period_kpis(bought, ws.config.profile.kpi_period),
        KPI_SECOND_PURCHASE: second_purchase_delays(profile),
        KPI_RECRUITMENT: recruitment_paths(bought, profile),
        KPI_COHORTS: cohort_triangles(engine, bought, profile, as_of),
    }
    if engine.has_table(CUSTOMER_CATEGORIES.name):
        exprs[KPI_RENEWAL] = renewal_times(engine.table(CUSTOMER_CATEGORIES.name))
    for spec, expr in exprs.items():
        engine.write(spec.name, expr.select(*spec.column_names), stage=STAGE)
    return KpiReport(as_of, tuple(spec.name for spec in exprs))


def write_segment_kpis(ws: Workspace) -> None:
    """Rewrite ``kpi_segments`` alone, after a later stage added segment columns.

    Parameters
    ----------
    ws : Workspace
        The workspace; ``parcours profile`` must have run.
    """
    profile, _ = read_profile(ws.engine)
    ws.engine.write(
        KPI_SEGMENTS.name, segment_kpis(profile).select(*KPI_SEGMENTS.column_names), stage=STAGE
    )
