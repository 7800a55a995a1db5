"""KPI series: each KPI per day and per week, overall and per dimension value, in the engine.

Only the aggregated series leave the engine: a few hundred series of a few hundred points,
whatever the number of orders. A period without any order is a real zero (a store closed,
a feed stopped), so every series is made dense from its first period to the as-of date.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from parcours.config import MonitorConfig
from parcours.engine import Engine
from parcours.facts import end_of
from parcours.schema import (
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    CUSTOMERS_GOLDEN,
    DIMENSION,
    DIMENSION_VALUE,
    GRAIN,
    KPI,
    ORDER_LINES,
    PERIOD,
    PRODUCTS,
    SOURCE,
    STORES,
)

OVERALL = "all"
# Completed orders behind each point: how much a point of the series can be trusted.
VOLUME = "volume"
# KPIs that add up over periods and dimension values; the others are ratios.
SUMS = ("revenue", "orders", "customers", "new_customers")
# The order-level dimensions; `family` comes from the order lines.
ORDER_DIMENSIONS = ("channel", "store", "region", "source")
LINE_KPIS = ("revenue", "orders", "customers", "average_basket")


def _orders(engine: Engine, as_of: dt.date) -> ibis.Table:
    """One row per order with its day, week, dimensions, and what it counts for."""
    o = engine.table(CUSTOMER_ORDERS.name)
    o = o.filter(o.ordered_at < end_of(as_of))
    region = ibis.null("string")
    if engine.has_table(STORES.name):
        s = engine.table(STORES.name).select(_sid="store_id", _sregion="region")
        o = o.left_join(s, o.store_id == s._sid)
        region = o._sregion
    if engine.has_table(CUSTOMERS_GOLDEN.name):
        g = engine.table(CUSTOMERS_GOLDEN.name).select(_gkey=CUSTOMER_KEY, _gregion="region")
        o = o.left_join(g, o[CUSTOMER_KEY] == g._gkey)
        # A store sale belongs to the store's region, an online one to the customer's.
        region = region.coalesce(o._gregion) if engine.has_table(STORES.name) else o._gregion
    completed = o.status == "completed"
    return o.select(
        order_id=o.order_id,
        order_source=o[SOURCE],
        customer_key=o[CUSTOMER_KEY],
        day=o.ordered_at.date(),
        week=o.ordered_at.truncate("W").date(),
        channel=o.channel,
        store=o.store_id,
        region=region,
        source=o[SOURCE],
        completed=completed.cast("int64"),
        returned=(o.status == "returned").cast("int64"),
        amount=completed.ifelse(o.total_amount, 0.0),
    )


def _order_kpis(orders: ibis.Table, period: str, dim: str | None) -> ibis.Table:
    keys = [orders[period].name(PERIOD)]
    value = orders[dim].cast("string") if dim else ibis.literal(OVERALL)
    t = orders.mutate(_value=value)
    t = t.filter(t._value.notnull())
    g = t.group_by([*keys, t._value]).aggregate(
        revenue=t.amount.sum(),
        orders=t.completed.sum(),
        customers=t.customer_key.nunique(where=t.completed == 1),
        returned=t.returned.sum(),
    )
    return g.mutate(_dimension=ibis.literal(dim or OVERALL))


def _new_customer_kpis(orders: ibis.Table, period: str, dim: str | None) -> ibis.Table:
    bought = orders.filter((orders.completed == 1) & orders.customer_key.notnull())
    first = bought.mutate(
        _rank=ibis.row_number().over(
            group_by=bought.customer_key, order_by=[bought.day, bought.order_id]
        )
    ).filter(lambda t: t._rank == 0)
    value = first[dim].cast("string") if dim else ibis.literal(OVERALL)
    t = first.mutate(_value=value).filter(lambda t: t._value.notnull())
    return (
        t.group_by([t[period].name(PERIOD), t._value])
        .aggregate(new_customers=t.count())
        .mutate(_dimension=ibis.literal(dim or OVERALL))
    )


def _family_kpis(engine: Engine, orders: ibis.Table, period: str) -> ibis.Table | None:
    if not (engine.has_table(ORDER_LINES.name) and engine.has_table(PRODUCTS.name)):
        return None
    lines = engine.table(ORDER_LINES.name)
    products = engine.table(PRODUCTS.name).select(_sku="sku", _family="family")
    done = orders.filter(orders.completed == 1)
    t = lines.join(done, [lines.order_id == done.order_id, lines[SOURCE] == done.order_source])
    t = t.left_join(products, t.sku == products._sku).filter(lambda t: t._family.notnull())
    g = t.group_by([t[period].name(PERIOD), t._family.name("_value")]).aggregate(
        revenue=t.amount.sum(),
        orders=(t.order_source.concat("|", t.order_id)).nunique(),
        customers=t.customer_key.nunique(),
    )
    return g.mutate(_dimension=ibis.literal("family"))


def _long(frame: pd.DataFrame, kpis: list[str], grain: str) -> pd.DataFrame:
    """Wide aggregates to one row per KPI, with numerator and denominator."""
    out = []
    base = frame[[PERIOD, "_dimension", "_value"]]
    for kpi in kpis:
        if kpi in SUMS and kpi in frame:
            num, den = frame[kpi].astype(float), pd.Series(1.0, index=frame.index)
        elif kpi == "average_basket" and "revenue" in frame:
            num, den = frame["revenue"].astype(float), frame["orders"].astype(float)
        elif kpi == "returns_rate" and "returned" in frame:
            num = frame["returned"].astype(float)
            den = frame["returned"].astype(float) + frame["orders"].astype(float)
        else:
            continue
        volume = frame["orders"].astype(float)
        out.append(base.assign(**{KPI: kpi, "numerator": num, "denominator": den, VOLUME: volume}))
    if not out:
        return pd.DataFrame()
    long = pd.concat(out, ignore_index=True).rename(
        columns={"_dimension": DIMENSION, "_value": DIMENSION_VALUE}
    )
    return long.assign(**{GRAIN: grain})


def kpi_series(engine: Engine, config: MonitorConfig, as_of: dt.date) -> pd.DataFrame:
    """Every followed KPI series, dense, per day and per week.

    Parameters
    ----------
    engine : Engine
        The warehouse, with ``customer_orders``.
    config : MonitorConfig
        KPIs, dimensions and the minimum volume of a followed dimension value.
    as_of : datetime.date
        Last day; a week is kept only once complete.

    Returns
    -------
    pandas.DataFrame
        kpi, dimension, dimension_value, grain, period, numerator, denominator, value, and
        the completed orders behind each point (``volume``).
    """
    orders = _orders(engine, as_of)
    dims = [None, *[d for d in config.dimensions if d in ORDER_DIMENSIONS]]
    frames = []
    for grain, period in (("day", "day"), ("week", "week")):
        parts = [_order_kpis(orders, period, d) for d in dims]
        wide = engine.execute(ibis.union(*parts)) if parts else pd.DataFrame()
        new = [_new_customer_kpis(orders, period, d) for d in dims]
        if "new_customers" in config.kpis:
            fresh = engine.execute(ibis.union(*new))
            wide = wide.merge(fresh, on=[PERIOD, "_value", "_dimension"], how="left")
        frames.append(_long(wide, config.kpis, grain))
        if "family" in config.dimensions:
            family = _family_kpis(engine, orders, period)
            if family is not None:
                kpis = [k for k in config.kpis if k in LINE_KPIS]
                frames.append(_long(engine.execute(family), kpis, grain))
    series = pd.concat([f for f in frames if len(f)], ignore_index=True)
    series[PERIOD] = pd.to_datetime(series[PERIOD])
    series = _followed(series, config.min_daily_orders)
    return _dense(series, as_of)


def _followed(series: pd.DataFrame, min_orders: float) -> pd.DataFrame:
    """Drop the series of dimension values with fewer than ``min_orders`` orders a period.

    Per grain: a family selling three orders a day is too thin to judge day by day, but its
    twenty a week make a weekly series as solid as a daily one of twenty orders.
    """
    counts = series[series[KPI] == "orders"]
    keys = [GRAIN, DIMENSION, DIMENSION_VALUE]
    volume = counts.groupby(keys)["numerator"].sum() / _periods(counts, keys)
    kept = volume[(volume >= min_orders) | (volume.index.get_level_values(1) == OVERALL)].index
    index = pd.MultiIndex.from_frame(series[keys])
    return series[index.isin(kept)]


def _periods(series: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Periods from each series' first to its last, both in."""
    span = series.groupby(keys)[PERIOD].agg(["min", "max"])
    step = np.where(span.index.get_level_values(0) == "day", 1, 7)
    return (span["max"] - span["min"]).dt.days // step + 1


def _dense(series: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Every period of every series from its first one; a period without orders is a zero."""
    last_day = pd.Timestamp(as_of)
    last_week = last_day - pd.Timedelta(days=last_day.weekday() + 7 * (last_day.weekday() < 6))
    out = []
    keys = [KPI, DIMENSION, DIMENSION_VALUE, GRAIN]
    for (kpi, dim, value, grain), s in series.groupby(keys, sort=True):
        step, last = ("D", last_day) if grain == "day" else ("7D", last_week)
        periods = pd.date_range(s[PERIOD].min(), last, freq=step)
        s = s.set_index(PERIOD)[["numerator", "denominator", VOLUME]].reindex(periods)
        zero = 0.0 if kpi in SUMS else np.nan
        s["numerator"] = s["numerator"].fillna(0.0)
        s["denominator"] = s["denominator"].fillna(1.0 if kpi in SUMS else 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value_ = np.where(
                s["denominator"] > 0,
                s["numerator"] / s["denominator"].where(s["denominator"] > 0),
                zero,
            )
        out.append(
            pd.DataFrame(
                {
                    KPI: kpi,
                    DIMENSION: dim,
                    DIMENSION_VALUE: value,
                    GRAIN: grain,
                    PERIOD: periods,
                    "value": value_,
                    "numerator": s["numerator"].to_numpy(),
                    "denominator": s["denominator"].to_numpy(),
                    VOLUME: s[VOLUME].fillna(0.0).to_numpy(),
                }
            )
        )
    return pd.concat(out, ignore_index=True)
