"""Moments of truth: touchpoints whose outcome changes later repurchase, with an interval.

For every touchpoint with an outcome (a delivery late or on time, a ticket resolved or not, a
survey score good, neutral or bad) of a known person, whose horizon ends within the data:
was it followed by a purchase (``facts.purchases``) within ``journeys.moment_horizon_days``?
Each outcome's repurchase rate is compared with the touchpoint's most frequent outcome (the
reference).

A customer's repeated touchpoints are not independent observations (ten late deliveries of
one customer are one customer's experience, not ten), so the interval of the difference
takes the customer as the unit: the Wald interval of the linear probability model
``repurchased ~ outcome`` with the sandwich variance clustered by customer, which is what
statsmodels' GEE gives (Gaussian family, independence working correlation, robust
covariance). The sums it needs are computed in the engine, per customer: with ``p1``, ``p0``
the two rates over ``N1``, ``N0`` touchpoints, and a customer ``c`` with ``n1c`` touchpoints
of the outcome (``y1c`` followed by a purchase) and ``n0c`` of the reference (``y0c``), the
variance of ``p1 - p0`` is ``sum_c ((y1c - n1c p1) / N1 - (y0c - n0c p0) / N0) ** 2``.

References
----------
Liang, K.-Y. and Zeger, S. L. (1986). Longitudinal data analysis using generalized linear
models. Biometrika 73, 13-22.
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
    """Per touchpoint and outcome: eligible touchpoints, those followed by a purchase, variance.

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
        ``compared_outcomes`` of the touchpoints followed by a purchase, per customer.
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
    per_customer = e.group_by([TOUCHPOINT, OUTCOME, CUSTOMER_KEY]).aggregate(
        n=e.count(), y=later.cast("int64").sum()
    )
    return compared_outcomes(per_customer)


def compared_outcomes(per_customer: ibis.Table) -> ibis.Table:
    """Each outcome against its touchpoint's reference, with the customer-clustered variance.

    Parameters
    ----------
    per_customer
        ``touchpoint``, ``outcome``, ``customer_key``, ``n`` (touchpoints) and ``y`` (of
        them, followed by a purchase).

    Returns
    -------
    ibis.Table
        ``touchpoint``, ``outcome``, ``events``, ``repurchased``, ``reference``,
        ``reference_events``, ``reference_repurchased`` and ``variance`` (of the difference
        of the two rates); a row per outcome but the reference.
    """
    c = per_customer
    totals = c.group_by([TOUCHPOINT, OUTCOME]).aggregate(events=c.n.sum(), repurchased=c.y.sum())
    rank = ibis.row_number().over(
        group_by=totals[TOUCHPOINT], order_by=[ibis.desc(totals.events), totals[OUTCOME]]
    )
    totals = totals.mutate(is_ref=rank == 0)
    ref = totals.filter(totals.is_ref).select(
        ref_tp=totals[TOUCHPOINT],
        reference=totals[OUTCOME],
        reference_events=totals.events,
        reference_repurchased=totals.repurchased,
    )
    # A customer's part of the score: (y - n p) / N over their touchpoints of one outcome.
    j = c.inner_join(totals, [TOUCHPOINT, OUTCOME])
    scored = j.select(
        TOUCHPOINT,
        OUTCOME,
        CUSTOMER_KEY,
        "is_ref",
        score=(j.y - j.n * (j.repurchased / j.events)) / j.events,
    )
    squares = scored.group_by([TOUCHPOINT, OUTCOME]).aggregate(sq=(scored.score**2).sum())
    mine = scored.filter(~scored.is_ref)
    theirs = scored.filter(scored.is_ref).select(
        t_tp=scored[TOUCHPOINT], t_ck=scored[CUSTOMER_KEY], t_score=scored.score
    )
    both = mine.inner_join(
        theirs, [mine[TOUCHPOINT] == theirs.t_tp, mine[CUSTOMER_KEY] == theirs.t_ck]
    )
    cross = both.group_by([TOUCHPOINT, OUTCOME]).aggregate(cross=(both.score * both.t_score).sum())
    ref_sq = squares.inner_join(
        ref, [squares[TOUCHPOINT] == ref.ref_tp, squares[OUTCOME] == ref.reference]
    ).select(r_tp=ref.ref_tp, ref_sq=squares.sq)
    out = totals.filter(~totals.is_ref).drop("is_ref")
    out = out.inner_join(ref, out[TOUCHPOINT] == ref.ref_tp)
    out = out.inner_join(squares, [TOUCHPOINT, OUTCOME])
    out = out.inner_join(ref_sq, out[TOUCHPOINT] == ref_sq.r_tp)
    out = out.left_join(cross, [TOUCHPOINT, OUTCOME])
    return out.select(
        TOUCHPOINT,
        OUTCOME,
        events=out.events.cast("int64"),
        repurchased=out.repurchased.cast("int64"),
        reference=out.reference,
        reference_events=out.reference_events.cast("int64"),
        reference_repurchased=out.reference_repurchased.cast("int64"),
        variance=(out.sq + out.ref_sq - 2 * out.cross.fill_null(0.0)).cast("float64"),
    )


def moments_of_truth(
    counts: pd.DataFrame, horizon_days: int, confidence: float = 0.95
) -> pd.DataFrame:
    """Each outcome against its touchpoint's reference outcome, largest effects first.

    Parameters
    ----------
    counts
        ``outcome_repurchases`` as pandas (a row per outcome compared).
    horizon_days
        The repurchase window, recorded with the result.
    confidence
        Level of the intervals.

    Returns
    -------
    pandas.DataFrame
        The columns of ``journey_moments_of_truth``, significant and largest first.
    """
    z = float(norm.ppf(0.5 + confidence / 2))
    rows = []
    for r in counts.itertuples():
        rate, ref_rate = r.repurchased / r.events, r.reference_repurchased / r.reference_events
        half = z * math.sqrt(max(float(r.variance), 0.0))
        low, high = rate - ref_rate - half, rate - ref_rate + half
        rows.append(
            {
                TOUCHPOINT: r.touchpoint,
                OUTCOME: r.outcome,
                "reference": r.reference,
                "events": int(r.events),
                "repurchased": int(r.repurchased),
                "rate": rate,
                "reference_events": int(r.reference_events),
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
