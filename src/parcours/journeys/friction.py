"""Friction points and the journey KPIs: where funnel entries are lost, cart abandonment, bounce.

A friction point is a funnel step, on one channel, that loses entries. Friction points are
ranked by the entries lost *beyond* what the same step loses on the other channels
(``excess_lost = lost - reached x reference_drop_off``): a step every channel loses as much
of is the nature of the step, a step one channel loses far more of is friction. Revenue lost
is ``lost x`` the mean value of a converted entry of the funnel on that channel (the amount
of its last step: order total or purchase revenue).
"""

from __future__ import annotations

import ibis
import pandas as pd

from parcours.schema import JOURNEY_FRICTION, TOUCHPOINT

PAGE_TOUCHPOINTS = ("page_view", "product_view")


def friction_points(
    steps: pd.DataFrame, pages: pd.DataFrame, values: pd.DataFrame, fallback_value: float
) -> pd.DataFrame:
    """Friction points of funnels split by channel, ranked by ``excess_lost``.

    Parameters
    ----------
    steps
        Rows of ``journey_funnels`` with ``split == 'channel'`` (a small table).
    pages
        ``funnels.lost_pages`` per funnel: ``funnel``, ``channel``, ``step_no``, ``page``.
    values
        ``funnel``, ``channel``, ``value``: mean value of a converted entry.
    fallback_value
        Value of a conversion when a funnel's last step carries no amount (average basket).

    Returns
    -------
    pandas.DataFrame
        The columns of ``journey_friction``.
    """
    cols = JOURNEY_FRICTION.column_names
    if steps.empty:
        return pd.DataFrame(columns=cols)
    s = steps.sort_values(["funnel", "split_value", "step_no"]).copy()
    s["reached_before"] = s.groupby(["funnel", "split_value"])["reached"].shift(1)
    s["from_step"] = s.groupby(["funnel", "split_value"])["step"].shift(1)
    s = s[s.step_no > 1].rename(columns={"split_value": "channel", "step": "to_step"})
    s["lost"] = (s.reached_before - s.reached).astype("int64")
    totals = s.groupby(["funnel", "step_no"])[["reached_before", "lost"]].transform("sum")
    other_reached = totals.reached_before - s.reached_before
    other_lost = totals.lost - s.lost
    s["reference_drop_off"] = (other_lost / other_reached).where(other_reached > 0)
    s["drop_off"] = (s.lost / s.reached_before).where(s.reached_before > 0, 0.0)
    s["excess_lost"] = (s.lost - s.reached_before * s.reference_drop_off.fillna(s.drop_off)).clip(
        lower=0.0
    )
    s = s.merge(values, on=["funnel", "channel"], how="left")
    s["revenue_lost"] = s.lost * s["value"].fillna(fallback_value)
    page = pages[["funnel", "channel", "step_no", "page"]]
    s = s.merge(page, on=["funnel", "channel", "step_no"], how="left")
    s = s[s.lost > 0].drop(columns="reached").rename(columns={"reached_before": "reached"})
    s["reached"] = s.reached.astype("int64")
    s = s.sort_values(["funnel", "excess_lost", "revenue_lost"], ascending=[True, False, False])
    s["rank"] = s.groupby("funnel").cumcount() + 1
    return s[cols].reset_index(drop=True)


def session_kpis(timeline: ibis.Table) -> ibis.Table:
    """Cart abandonment, bounce rate, pages per session and time per page, per channel.

    A session is a ``session_id`` of the timeline. Cart abandonment: sessions with an
    ``add_to_cart`` and no ``purchase`` over sessions with an ``add_to_cart``. Bounce rate:
    sessions of one touchpoint over all sessions. Pages are ``page_view`` and
    ``product_view`` touchpoints; time per page is the sessions' length over their pages.

    Returns
    -------
    ibis.Table
        The columns of ``journey_kpis``.
    """
    t = timeline.filter(timeline.session_id.notnull())
    s = t.group_by(["session_id", "channel"]).aggregate(
        n=t.count(),
        cart=(t[TOUCHPOINT] == "add_to_cart").any(),
        bought=(t[TOUCHPOINT] == "purchase").any(),
        pages=t[TOUCHPOINT].isin(PAGE_TOUCHPOINTS).sum(),
        seconds=(t.occurred_at.max().epoch_seconds() - t.occurred_at.min().epoch_seconds()),
    )
    s = s.mutate(channel=s.channel.fill_null("unknown"))
    parts = []
    for by in ("channel", "all"):
        key = s.channel if by == "channel" else ibis.literal("all")
        m = s.mutate(_c=key)
        a = m.group_by("_c").aggregate(
            sessions=m.count(),
            carts=m.cart.sum(),
            abandoned=(m.cart & ~m.bought).sum(),
            bounces=(m.n == 1).sum(),
            pages=m.pages.sum(),
            seconds=m.seconds.sum(),
        )
        for kpi, num, den in (
            ("cart_abandonment", a.abandoned, a.carts),
            ("bounce_rate", a.bounces, a.sessions),
            ("pages_per_session", a.pages, a.sessions),
            ("seconds_per_page", a.seconds, a.pages),
        ):
            parts.append(
                a.select(
                    kpi=ibis.literal(kpi),
                    channel=a._c,
                    value=ibis.ifelse(den > 0, num.cast("float64") / den, None),
                    numerator=num.cast("float64"),
                    denominator=den.cast("float64"),
                )
            )
    out = ibis.union(*parts)
    return out.filter(out.value.notnull())
