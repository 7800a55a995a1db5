"""The delay before the second purchase, by channel of the first purchase."""

from __future__ import annotations

import ibis

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
