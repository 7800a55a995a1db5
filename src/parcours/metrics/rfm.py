"""RFM: recency, frequency and monetary quintile scores, and the named RFM segments."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from parcours.schema import CUSTOMER_KEY


@dataclass(frozen=True)
class RfmSegment:
    """A named RFM segment: the recency and frequency scores it covers, its names."""

    code: str
    label_en: str
    label_fr: str
    recency: tuple[int, int]
    frequency: tuple[int, int]

    @property
    def rule(self) -> str:
        """The rule as a reader sees it."""
        r, f = self.recency, self.frequency
        return f"R {r[0]}-{r[1]}, F {f[0]}-{f[1]}"


# The classic R x F grid (monetary value is scored, and shown, but names follow R and F):
# every (R, F) pair falls in exactly one cell, which a test checks.
RFM_SEGMENTS: tuple[RfmSegment, ...] = (
    RfmSegment("champions", "Champions", "Champions", (5, 5), (4, 5)),
    RfmSegment("loyal", "Loyal", "Fidèles", (3, 4), (4, 5)),
    RfmSegment("potential_loyalists", "Potential loyalists", "Fidèles potentiels", (4, 5), (2, 3)),
    RfmSegment("new", "New customers", "Nouveaux clients", (5, 5), (1, 1)),
    RfmSegment("promising", "Promising", "Prometteurs", (4, 4), (1, 1)),
    RfmSegment("need_attention", "Need attention", "À surveiller", (3, 3), (1, 3)),
    RfmSegment("at_risk", "At risk", "À risque", (1, 2), (3, 4)),
    RfmSegment("cant_lose", "Can't lose them", "À ne pas perdre", (1, 2), (5, 5)),
    RfmSegment("hibernating", "Hibernating", "En sommeil", (2, 2), (1, 2)),
    RfmSegment("lost", "Lost", "Perdus", (1, 1), (1, 2)),
)


def quintile(value: ibis.Value, *, reverse: bool = False) -> ibis.IntegerValue:
    """Score 1-5 from the rank of ``value`` among all rows; ties share the lower score.

    A percent rank rather than ``ntile``: equal values (say every one-order customer) must
    get the same score, whatever order the engine reads them in.
    """
    order = ibis.desc(value) if reverse else value
    rank = ibis.percent_rank().over(order_by=order)
    return ibis.least((rank * 5).floor().cast("int64") + 1, 5)


def rfm_scores(profile: ibis.Table) -> ibis.Table:
    """Recency, frequency and monetary scores and the named RFM segment of each buyer.

    Parameters
    ----------
    profile : ibis.Table
        ``customer_profile`` (``orders``, ``days_since_last_order``, ``revenue``).

    Returns
    -------
    ibis.Table
        ``customer_key``, ``recency_score``, ``frequency_score``, ``monetary_score``,
        ``rfm_score`` and ``rfm_segment``, for customers with at least one purchase.
        5 is the best score: most recent, most purchases, most revenue.
    """
    b = profile.filter(profile.orders > 0)
    s = b.select(
        CUSTOMER_KEY,
        recency_score=quintile(b.days_since_last_order, reverse=True),
        frequency_score=quintile(b.orders),
        monetary_score=quintile(b.revenue),
    )
    r, f = s.recency_score, s.frequency_score
    segment = ibis.cases(
        *((r.between(*seg.recency) & f.between(*seg.frequency), seg.code) for seg in RFM_SEGMENTS),
        else_=ibis.null("string"),
    )
    return s.mutate(
        rfm_score=r.cast("string") + f.cast("string") + s.monetary_score.cast("string"),
        rfm_segment=segment,
    )
