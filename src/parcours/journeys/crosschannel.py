"""Cross-channel patterns, each with its share and its value.

- ``research_online_buy_in_store``: completed store orders preceded, within
  ``journeys.research_days``, by a product view of the same person on the web or the app;
  share of all completed store orders of known persons.
- ``click_and_collect``: completed web and app orders with a pick-up store; share of all
  completed web and app orders.
- ``store_then_web`` (``web_then_store``): persons whose first purchase was in a store
  (online) and who later bought online (in a store); share of the persons whose first
  purchase was in a store (online); value: those persons' revenue.
"""

from __future__ import annotations

import ibis

from parcours.schema import CUSTOMER_KEY, JOURNEY_ID, OCCURRED_AT, ORDER_TOUCHPOINT, SEQ, TOUCHPOINT

ONLINE = ("web", "app")
IN_STORE = ("store",)
COMPLETED = "completed"


def _row(pattern: str, unit: str, count, base, value) -> dict:
    return dict(
        pattern=ibis.literal(pattern),
        unit=ibis.literal(unit),
        count=count.cast("int64"),
        base=base.cast("int64"),
        share=ibis.ifelse(base > 0, count.cast("float64") / base, None),
        value=value.cast("float64").fill_null(0.0),
    )


def research_online(timeline: ibis.Table, days: float) -> ibis.Table:
    """The ``research_online_buy_in_store`` row."""
    t = timeline.filter(timeline[CUSTOMER_KEY].notnull())
    ts = t[OCCURRED_AT].epoch_seconds().cast("int64")
    viewed = (t[TOUCHPOINT] == "product_view") & t.channel.isin(ONLINE)
    w = ibis.window(group_by=t[JOURNEY_ID], order_by=t[SEQ], rows=(None, 0))
    t = t.mutate(ts=ts, last_view=ibis.cases((viewed, ts)).max().over(w))
    o = t.filter(
        (t[TOUCHPOINT] == ORDER_TOUCHPOINT) & t.channel.isin(IN_STORE) & (t.outcome == COMPLETED)
    )
    researched = o.last_view.notnull() & (o.ts - o.last_view <= days * 86400)
    a = o.aggregate(
        count=researched.sum(),
        base=o.count(),
        value=ibis.cases((researched, o.amount), else_=0.0).sum(),
    )
    return a.select(**_row("research_online_buy_in_store", "orders", a["count"], a.base, a.value))


def click_and_collect(purchases: ibis.Table) -> ibis.Table:
    """The ``click_and_collect`` row, from completed orders of known persons."""
    o = purchases.filter(purchases.channel.isin(ONLINE))
    pickup = o.store_id.notnull()
    a = o.aggregate(
        count=pickup.sum(),
        base=o.count(),
        value=ibis.cases((pickup, o.total_amount), else_=0.0).sum(),
    )
    return a.select(**_row("click_and_collect", "orders", a["count"], a.base, a.value))


def channel_sequences(purchases: ibis.Table) -> ibis.Table:
    """The ``store_then_web`` and ``web_then_store`` rows."""
    p = purchases
    w = ibis.window(group_by=p[CUSTOMER_KEY], order_by=[p.ordered_at, p.order_id])
    p = p.mutate(r=ibis.row_number().over(w))
    g = p.group_by(CUSTOMER_KEY).aggregate(
        first_store=ibis.cases((p.r == 0, p.channel.isin(IN_STORE)), else_=False).any(),
        first_online=ibis.cases((p.r == 0, p.channel.isin(ONLINE)), else_=False).any(),
        later_store=ibis.cases((p.r > 0, p.channel.isin(IN_STORE)), else_=False).any(),
        later_online=ibis.cases((p.r > 0, p.channel.isin(ONLINE)), else_=False).any(),
        revenue=p.total_amount.sum(),
    )
    parts = []
    for pattern, first, later in (
        ("store_then_web", g.first_store, g.later_online),
        ("web_then_store", g.first_online, g.later_store),
    ):
        hit = first & later
        a = g.aggregate(
            count=hit.sum(),
            base=first.sum(),
            value=ibis.cases((hit, g.revenue), else_=0.0).sum(),
        )
        parts.append(a.select(**_row(pattern, "customers", a["count"], a.base, a.value)))
    return ibis.union(*parts)


def cross_channel(timeline: ibis.Table, purchases: ibis.Table, research_days: float) -> ibis.Table:
    """Every pattern: the columns of ``journey_cross_channel``."""
    return ibis.union(
        research_online(timeline, research_days),
        click_and_collect(purchases),
        channel_sequences(purchases),
    )
