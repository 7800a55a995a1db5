"""What each person buys: ``customer_categories``, and what the other stages read from it.

The order lines are joined to the purchases once, when the profile is built, into one row per
person and category. The category mix, the favourites, the renewal times, the lapsing rule
and the personas' family shares all read that table instead of the lines.
"""

from __future__ import annotations

import ibis

from parcours.engine import Engine
from parcours.schema import CUSTOMER_KEY, ORDER_LINES, PRODUCTS

UNKNOWN_FAMILY = "unknown"
DAY = 86400


def product_lines(engine: Engine, bought: ibis.Table) -> ibis.Table | None:
    """The lines of the purchases with their category and family (None without lines)."""
    if not engine.has_table(ORDER_LINES.name):
        return None
    lines = engine.table(ORDER_LINES.name)
    b = bought.select(CUSTOMER_KEY, "source", "order_id", "ordered_at")
    j = lines.join(b, ["source", "order_id"])
    if engine.has_table(PRODUCTS.name):
        p = engine.table(PRODUCTS.name)
        p = p.select(sku=p.sku, _category=p.category, _family=p.family)
        j = j.left_join(p, "sku")
        category = ibis.coalesce(j.category, j._category)
        family = ibis.coalesce(j._family, ibis.literal(UNKNOWN_FAMILY))
    else:
        category, family = j.category, ibis.literal(UNKNOWN_FAMILY)
    return j.select(
        CUSTOMER_KEY, "source", "order_id", "ordered_at", "amount", category=category, family=family
    )


def customer_categories(lines: ibis.Table) -> ibis.Table:
    """One row per person and category: purchases, spend, dates and usual interval.

    Parameters
    ----------
    lines : ibis.Table
        ``product_lines`` of the purchases.

    Returns
    -------
    ibis.Table
        The ``customer_categories`` rows. Lines without a category form one row with a null
        category, so that shares of spend add up; they have no interval.
    """
    w = ibis.window(
        group_by=[lines[CUSTOMER_KEY], lines.category],
        order_by=[lines.ordered_at, lines.source, lines.order_id],
    )
    # One window over the lines, no grouping by order first: a line starts a purchase of the
    # category when the line before it (in time) belongs to another order.
    first_line = (lines.order_id.lag().over(w) != lines.order_id).fill_null(True) | (
        lines.source.lag().over(w) != lines.source
    )
    gap = (lines.ordered_at.epoch_seconds() - lines.ordered_at.lag().over(w).epoch_seconds()).cast(
        "float64"
    ) / DAY
    o = lines.mutate(_first=first_line, _gap=gap)
    return o.group_by(CUSTOMER_KEY, "category").aggregate(
        family=o.family.max(),
        purchases=o._first.sum().cast("int64"),
        amount=o.amount.sum(),
        first_purchase_at=o.ordered_at.min(),
        last_purchase_at=o.ordered_at.max(),
        # Null outside the gaps that count (Spark's percentile takes no filter).
        usual_interval_days=ibis.cases((o._first & o.category.notnull(), o._gap)).median(),
    )


def category_mix(categories: ibis.Table, families: list[str]) -> ibis.Table:
    """Share of spend per family (as JSON text) and favourite family.

    Parameters
    ----------
    categories : ibis.Table
        ``customer_categories`` rows.
    families : list of str
        The families present (at least one), sorted: the JSON key order, and the order that
        breaks ties.
    """
    c = categories
    per = c.group_by(CUSTOMER_KEY).aggregate(
        _total=c.amount.sum(),
        **{
            f"_f{i}": c.amount.sum(where=c.family == f).fill_null(0) for i, f in enumerate(families)
        },
    )
    amounts = [per[f"_f{i}"] for i in range(len(families))]
    parts = []
    for f, amount in zip(families, amounts, strict=True):
        share = (amount / per._total).round(3)
        parts.append((share > 0).ifelse(f'"{f}": ' + share.cast("string"), ibis.null("string")))
    # Families are few: the favourite is the widest column, the first in name order on a tie.
    top = ibis.greatest(*amounts) if len(amounts) > 1 else amounts[0]
    favourite = ibis.cases(*((a == top, f) for a, f in zip(amounts, families, strict=True)))
    return per.select(
        CUSTOMER_KEY,
        category_mix=ibis.cases(
            (per._total > 0, "{" + ibis.literal(", ").join(parts) + "}"),
            else_=ibis.null("string"),
        ),
        favourite_family=ibis.cases((top > 0, favourite), else_=ibis.null("string")),
    )


def renewal_times(categories: ibis.Table) -> ibis.Table:
    """Renewal time of each product category.

    Parameters
    ----------
    categories : ibis.Table
        ``customer_categories`` rows.

    Returns
    -------
    ibis.Table
        The ``kpi_renewal`` rows. Each customer who bought a category at least twice has a
        usual interval (the median of their gaps between two purchases of it); the category's
        renewal time is the median of those intervals over customers, so a customer who buys
        often does not weigh more than one who buys rarely.
    """
    c = categories.filter(categories.usual_interval_days.notnull())
    return c.group_by("category").aggregate(
        family=c.family.max(),
        customers=c.count(),
        median_days=c.usual_interval_days.median(),
        q1_days=c.usual_interval_days.quantile(0.25),
        q3_days=c.usual_interval_days.quantile(0.75),
        mean_days=c.usual_interval_days.mean(),
    )


def family_shares(categories: ibis.Table, families: list[str]) -> ibis.Table:
    """Share of each person's spend per family: ``family_<name>`` columns."""
    c = categories
    per = c.group_by(CUSTOMER_KEY).aggregate(
        _total=c.amount.sum(),
        **{f"family_{f}": c.amount.sum(where=c.family == f) for f in families},
    )
    return per.select(
        CUSTOMER_KEY,
        **{
            f"family_{f}": per[f"family_{f}"].fill_null(0) / ibis.greatest(per._total, 0.01)
            for f in families
        },
    )


def families(engine: Engine, categories: ibis.Table) -> list[str]:
    """The product families bought, sorted."""
    column = engine.execute(categories.select("family").distinct())["family"]
    return sorted(f for f in column if f is not None)
