"""Repurchase delays: the delay before the second purchase and each category's renewal time."""

from __future__ import annotations

import ibis

from parcours.schema import CUSTOMER_KEY

ALL = "all"
WITHIN_DAYS = (30, 90, 180, 365)


def _delay_stats(t: ibis.Table) -> dict[str, ibis.Value]:
    d = t.days_to_second_order
    buyers = t.orders > 0
    out = {
        "customers": buyers.sum().cast("int64"),
        "second_buyers": d.notnull().sum().cast("int64"),
        "median_days": d.median(),
        "q1_days": d.quantile(0.25),
        "q3_days": d.quantile(0.75),
        "mean_days": d.mean(),
    }
    for days in WITHIN_DAYS:
        # Only customers recruited long enough ago had the chance to come back in time.
        exposed = buyers & (t.tenure_days >= days)
        came_back = exposed & (d <= days)
        out[f"within_{days}_days"] = came_back.sum().cast("float64") / exposed.sum().cast(
            "float64"
        ).nullif(0)
    return out


def second_purchase_delays(profile: ibis.Table) -> ibis.Table:
    """Delay from the first to the second purchase, by channel of the first purchase.

    Parameters
    ----------
    profile : ibis.Table
        ``customer_profile`` (``orders``, ``first_channel``, ``days_to_second_order``,
        ``tenure_days``).

    Returns
    -------
    ibis.Table
        The ``kpi_second_purchase`` rows: one per first channel, and ``all``. Median and
        quartiles are over the customers who bought a second time; ``within_N_days`` is the
        share who came back within N days among those recruited at least N days before as-of.
    """
    p = profile.filter(profile.orders > 0)
    by_channel = p.group_by("first_channel").aggregate(**_delay_stats(p))
    overall = p.aggregate(**_delay_stats(p)).mutate(first_channel=ibis.literal(ALL))
    return by_channel.union(overall.select(*by_channel.columns))


def category_purchases(lines: ibis.Table) -> ibis.Table:
    """One row per person, category and purchase holding that category."""
    lines = lines.filter(lines.category.notnull())
    return lines.group_by(CUSTOMER_KEY, "category", "order_id").aggregate(
        ordered_at=lines.ordered_at.min(), family=lines.family.max()
    )


def renewal_times(lines: ibis.Table) -> ibis.Table:
    """Renewal time of each product category.

    Parameters
    ----------
    lines : ibis.Table
        Purchase lines with ``customer_key``, ``order_id``, ``ordered_at``, ``category`` and
        ``family`` (``profile.product_lines``).

    Returns
    -------
    ibis.Table
        The ``kpi_renewal`` rows. Each customer who bought a category at least twice has a
        usual interval (the median of their gaps between two purchases of it); the category's
        renewal time is the median of those intervals over customers, so a customer who buys
        often does not weigh more than one who buys rarely.
    """
    cp = category_purchases(lines)
    w = ibis.window(group_by=[cp[CUSTOMER_KEY], cp.category], order_by=[cp.ordered_at, cp.order_id])
    gaps = cp.mutate(
        gap=(cp.ordered_at.epoch_seconds() - cp.ordered_at.lag().over(w).epoch_seconds()).cast(
            "float64"
        )
        / 86400
    )
    per_customer = (
        gaps.filter(gaps.gap.notnull())
        .group_by(CUSTOMER_KEY, "category")
        .aggregate(interval=lambda t: t.gap.median(), family=lambda t: t.family.max())
    )
    pc = per_customer
    return pc.group_by("category").aggregate(
        family=pc.family.max(),
        customers=pc.count(),
        median_days=pc.interval.median(),
        q1_days=pc.interval.quantile(0.25),
        q3_days=pc.interval.quantile(0.75),
        mean_days=pc.interval.mean(),
    )
