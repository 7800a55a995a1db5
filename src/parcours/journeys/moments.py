"""Moments of truth: touchpoints whose outcome changes later repurchase, with an interval.

For every touchpoint with an outcome (a delivery late or on time, a ticket resolved or not, a
survey score good, neutral or bad) of a known person, whose horizon ends within the data:
was it followed by a purchase (``facts.purchases``) within ``journeys.moment_horizon_days``?
Each outcome's repurchase rate is compared with the touchpoint's most frequent outcome (the
reference); the difference comes with Newcombe's hybrid score interval (from two Wilson
intervals), so that a difference whose interval holds 0 is not taken for a finding.

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890 (method 10).
"""

from __future__ import annotations

import math

import ibis
import pandas as pd
from scipy.stats import norm

from parcours.schema import (
    CUSTOMER_KEY,
    JOURNEY_MOMENTS,
    OCCURRED_AT,
    ORDER_TOUCHPOINT,
    OUTCOME,
    TOUCHPOINT,
)


def outcome_repurchases(
    timeline: ibis.Table, purchases: ibis.Table, horizon_days: int, data_end: ibis.Value
) -> ibis.Table:
    """Per touchpoint and outcome: eligible touchpoints and those followed by a purchase.

    Parameters
    ----------
    timeline
        ``journey_timeline``.
    purchases
        ``facts.purchases``.
    horizon_days
        The repurchase window.
    data_end
        First instant after the data (``facts.end_of(as_of)``).

    Returns
    -------
    ibis.Table
        ``touchpoint``, ``outcome``, ``events``, ``repurchased``.
    """
    h = horizon_days * 86400
    t = timeline.filter(
        timeline[CUSTOMER_KEY].notnull()
        & timeline[OUTCOME].notnull()
        & (timeline[TOUCHPOINT] != ORDER_TOUCHPOINT)
    )
    marks = t.select(
        CUSTOMER_KEY,
        TOUCHPOINT,
        OUTCOME,
        ts=t[OCCURRED_AT].epoch_seconds().cast("int64"),
        kind=ibis.literal(0, "int64"),
    )
    bought = purchases.select(
        CUSTOMER_KEY,
        **{TOUCHPOINT: ibis.null(str), OUTCOME: ibis.null(str)},
        ts=purchases.ordered_at.epoch_seconds().cast("int64"),
        kind=ibis.literal(1, "int64"),
    )
    u = ibis.union(marks, bought)
    # Purchases at the very second of the touchpoint sort after it but are not *later*.
    w = ibis.window(group_by=u[CUSTOMER_KEY], order_by=[u.ts, u.kind], rows=(1, None))
    u = u.mutate(next_buy=ibis.cases((u.kind == 1, u.ts)).min().over(w))
    end = data_end.epoch_seconds().cast("int64")
    e = u.filter((u.kind == 0) & (u.ts + h <= end))
    later = e.next_buy.notnull() & (e.next_buy > e.ts) & (e.next_buy <= e.ts + h)
    return e.group_by([TOUCHPOINT, OUTCOME]).aggregate(
        events=e.count(), repurchased=later.sum().cast("int64")
    )


def wilson(x: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``x / n``."""
    if n == 0:
        return 0.0, 1.0
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def difference_interval(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of ``x1/n1 - x2/n2``."""
    z = float(norm.ppf(0.5 + confidence / 2))
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def moments_of_truth(
    counts: pd.DataFrame, horizon_days: int, confidence: float = 0.95
) -> pd.DataFrame:
    """Each outcome against its touchpoint's reference outcome, largest effects first.

    Parameters
    ----------
    counts
        ``outcome_repurchases`` as pandas (a few rows).
    horizon_days
        The repurchase window, recorded with the result.
    confidence
        Level of the intervals.

    Returns
    -------
    pandas.DataFrame
        The columns of ``journey_moments_of_truth``, significant and largest first.
    """
    rows = []
    for touchpoint, g in counts.groupby(TOUCHPOINT):
        g = g[g.events > 0]
        if len(g) < 2:
            continue
        ref = g.sort_values(["events", OUTCOME], ascending=[False, True]).iloc[0]
        for r in g.itertuples():
            if r.outcome == ref[OUTCOME]:
                continue
            low, high = difference_interval(
                r.repurchased, r.events, ref.repurchased, ref.events, confidence
            )
            rate, ref_rate = r.repurchased / r.events, ref.repurchased / ref.events
            rows.append(
                {
                    TOUCHPOINT: touchpoint,
                    OUTCOME: r.outcome,
                    "reference": ref[OUTCOME],
                    "events": int(r.events),
                    "repurchased": int(r.repurchased),
                    "rate": rate,
                    "reference_events": int(ref.events),
                    "reference_rate": ref_rate,
                    "difference": rate - ref_rate,
                    "ci_low": low,
                    "ci_high": high,
                    "significant": bool(low > 0 or high < 0),
                    "horizon_days": int(horizon_days),
                }
            )
    out = pd.DataFrame(rows, columns=JOURNEY_MOMENTS.column_names)
    if out.empty:
        return out
    out["_size"] = out.difference.abs()
    out = out.sort_values(["significant", "_size"], ascending=False).drop(columns="_size")
    return out.reset_index(drop=True)
