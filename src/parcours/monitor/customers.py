"""Abnormal customers: persons whose behaviour departs from the others' and their own, scored.

Each rule gives points and a reason; a person with ``MIN_SCORE`` points or more is listed
for review. Everything is computed in the engine over the orders and golden records.
"""

from __future__ import annotations

import datetime as dt

import ibis

from parcours.engine import Engine
from parcours.facts import end_of
from parcours.schema import CUSTOMER_KEY, CUSTOMER_ORDERS, CUSTOMERS_GOLDEN, MONITOR_CUSTOMERS

BURST_ORDERS = 3  # orders within one hour
MIN_ORDERS_FOR_RATE = 3
RETURN_RATE = 0.5
RETURN_FACTOR = 3  # times the population's return rate
SHARED_PERSONS = 3  # other persons on the same phone or address
BASKET_QUANTILE = 0.999
BASKET_FACTOR = 5  # times the person's own median basket
MIN_SCORE = 2


def abnormal_customers(engine: Engine, as_of: dt.date) -> ibis.Table:
    """The persons to review, with their score, reasons and the figures behind them.

    Rules (points): a burst of ``BURST_ORDERS`` orders in one hour (2); a return rate of at
    least ``RETURN_RATE`` and ``RETURN_FACTOR`` times the population's, over at least
    ``MIN_ORDERS_FOR_RATE`` orders (2); ``SHARED_PERSONS`` other persons sharing the phone or
    the postal address (2); a basket above the population's 99.9th percentile and
    ``BASKET_FACTOR`` times the person's median (1).
    """
    o = engine.table(CUSTOMER_ORDERS.name)
    o = o.filter(o[CUSTOMER_KEY].notnull(), o.ordered_at < end_of(as_of))
    # Orders within any hour, not within a clock hour: a burst from 18:40 to 19:20 counts.
    # Each order counts the person's orders of the hour that starts with it, all of them (a
    # burst of five is told as five).
    hour = ibis.window(
        group_by=o[CUSTOMER_KEY], order_by=o.ordered_at, range=(0, ibis.interval(hours=1))
    )
    counted = o.mutate(_n=o.ordered_at.count().over(hour))
    burst = counted.group_by(CUSTOMER_KEY).aggregate(max_orders_hour=counted._n.max())
    per = o.group_by(CUSTOMER_KEY).aggregate(
        orders=o.count(),
        returned=(o.status == "returned").cast("int64").sum(),
        max_basket=o.total_amount.max(),
        median_basket=o.total_amount.median(),
    )
    overall = o.aggregate(
        _rate=(o.status == "returned").cast("float64").mean(),
        _cap=o.total_amount.quantile(BASKET_QUANTILE),
    )
    t = per.join(burst, CUSTOMER_KEY).cross_join(overall)
    shared_with = _shared(engine)
    t = t.left_join(shared_with, t[CUSTOMER_KEY] == shared_with.person)
    rate = t.returned.cast("float64") / t.orders
    shared = t.shared.fill_null(0)
    rules = [
        (
            t.max_orders_hour >= BURST_ORDERS,
            2,
            "orders in one hour: " + t.max_orders_hour.cast("string"),
        ),
        (
            (t.orders >= MIN_ORDERS_FOR_RATE)
            & (rate >= RETURN_RATE)
            & (rate >= RETURN_FACTOR * t._rate),
            2,
            "returns: " + (rate * 100).round().cast("int64").cast("string") + "% of orders",
        ),
        (
            shared >= SHARED_PERSONS,
            2,
            "phone or address shared with " + shared.cast("string") + " persons",
        ),
        (
            (t.max_basket > t._cap) & (t.max_basket > BASKET_FACTOR * t.median_basket),
            1,
            "basket of " + t.max_basket.round(2).cast("string") + " far above the usual",
        ),
    ]
    score = sum(hit.ifelse(points, 0) for hit, points, _ in rules)
    reasons = ibis.array([hit.ifelse(why, ibis.null("string")) for hit, _, why in rules])
    out = t.mutate(
        score=score.cast("float64"),
        reasons=reasons.filter(lambda r: r.notnull()).join("; "),
        return_rate=rate,
        shared_contacts=shared.cast("int64"),
    )
    out = out.filter(out.score >= MIN_SCORE)
    return out.select(*MONITOR_CUSTOMERS.column_names).order_by(ibis.desc("score"))


def _shared(engine: Engine) -> ibis.Table:
    """Per person, the most other persons sharing one of its phone or postal address."""
    if not engine.has_table(CUSTOMERS_GOLDEN.name):
        return ibis.memtable({"person": [], "shared": []}).cast(
            {"person": "string", "shared": "int64"}
        )
    g = engine.table(CUSTOMERS_GOLDEN.name)
    address = g.address_line1.lower().strip().concat("|", g.postal_code)
    contacts = ibis.union(
        g.filter(g.phone.notnull()).select(CUSTOMER_KEY, contact="p:" + g.phone),
        g.filter(g.address_line1.notnull(), g.postal_code.notnull()).select(
            CUSTOMER_KEY, contact="a:" + address
        ),
    )
    counts = contacts.group_by("contact").aggregate(_persons=contacts[CUSTOMER_KEY].nunique())
    j = contacts.join(counts, "contact")
    return j.group_by(j[CUSTOMER_KEY].name("person")).aggregate(shared=(j._persons - 1).max())
