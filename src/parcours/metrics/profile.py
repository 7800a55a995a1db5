"""``customer_profile``: one row per person as of a date, built in the engine.

Every figure counts *purchases* only (``facts.purchases``: completed orders of known persons
on or before the as-of date). Persons with no purchase yet keep a row, with zero orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis

from parcours.config import Config
from parcours.engine import Engine
from parcours.facts import end_of, purchases, resolve_as_of
from parcours.metrics.categories import category_mix, customer_categories, families, product_lines
from parcours.metrics.seasons import festive_periods, in_periods
from parcours.schema import (
    CUSTOMER_CATEGORIES,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    CUSTOMER_PROFILE,
    CUSTOMERS,
    CUSTOMERS_GOLDEN,
    IDENTITY_MAP,
    OCCURRED_AT,
    ORDER_CHANNELS,
    STORES,
)
from parcours.workspace import Workspace

STAGE = "profile"
DAY = 86400


@dataclass(frozen=True)
class ProfileReport:
    """What ``write_profile`` wrote.

    Attributes
    ----------
    as_of : datetime.date
        The profile date.
    customers : int
        Persons in the profile (with or without purchases).
    buyers : int
        Of them, persons with at least one purchase.
    active : int
        Of them, persons active over the active period.
    revenue : float
        Revenue of every purchase up to as-of.
    cleared : tuple of str
        Columns later stages had added to the previous profile, gone with it.
    """

    as_of: dt.date
    customers: int
    buyers: int
    active: int
    revenue: float
    cleared: tuple[str, ...] = ()


def _epoch(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def days_between(later: dt.date, ts: ibis.TimestampValue) -> ibis.IntegerValue:
    """Calendar days from the day of ``ts`` to the date ``later``."""
    return ((_epoch(later) - ts.truncate("D").epoch_seconds()) / DAY).round().cast("int64")


def span_days(later: ibis.TimestampValue, earlier: ibis.TimestampValue) -> ibis.FloatingValue:
    """Days, with their fraction, from ``earlier`` to ``later``."""
    return (later.epoch_seconds() - earlier.epoch_seconds()).cast("float64") / DAY


def age_band(age: ibis.IntegerValue) -> ibis.StringValue:
    """The age band of an age in years (null when unknown or under 18)."""
    return ibis.cases(
        (age >= 65, "65+"),
        (age >= 55, "55-64"),
        (age >= 45, "45-54"),
        (age >= 35, "35-44"),
        (age >= 25, "25-34"),
        (age >= 18, "18-24"),
        else_=ibis.null("string"),
    )


def person_attributes(engine: Engine) -> ibis.Table:
    """Birth date, postal code and region of every person.

    From ``customers_golden`` when identity resolution wrote it; otherwise any non-null
    value of the person's records, so the profile can run on keyed facts alone.
    """
    if engine.has_table(CUSTOMERS_GOLDEN.name):
        g = engine.table(CUSTOMERS_GOLDEN.name)
        return g.select(CUSTOMER_KEY, "birth_date", "postal_code", "region")
    m = engine.table(IDENTITY_MAP.name)
    c = engine.table(CUSTOMERS.name)
    j = m.join(c, ["source", "source_id"])
    return j.group_by(CUSTOMER_KEY).aggregate(
        birth_date=j.birth_date.max(), postal_code=j.postal_code.max(), region=j.region.max()
    )


def first_seen(engine: Engine) -> ibis.Table:
    """When each person was first seen: a record created, an order placed, an event.

    Null for a person of the identity map with none of these dates.
    """
    parts = []
    if engine.has_table(IDENTITY_MAP.name):
        m = engine.table(IDENTITY_MAP.name)
        seen = ibis.null("timestamp")
        if engine.has_table(CUSTOMERS.name):
            c = engine.table(CUSTOMERS.name)
            m = m.left_join(c, [m.source == c.source, m.source_id == c.source_id])
            seen = m.created_at
        parts.append(m.select(CUSTOMER_KEY, seen=seen.cast("timestamp")))
    for spec, column in ((CUSTOMER_ORDERS, "ordered_at"), (CUSTOMER_EVENTS, OCCURRED_AT)):
        if engine.has_table(spec.name):
            t = engine.table(spec.name)
            t = t.filter(t[CUSTOMER_KEY].notnull())
            parts.append(t.select(CUSTOMER_KEY, seen=t[column].cast("timestamp")))
    every = ibis.union(*parts)
    return every.group_by(CUSTOMER_KEY).aggregate(seen=every.seen.min())


def persons(engine: Engine, bought: ibis.Table, as_of: dt.date) -> ibis.Table:
    """Every person known on the as-of date: those of the identity map and any buyer.

    A person first seen after the as-of date is left out; one whose records carry no date at
    all is kept, for nothing tells when they became known.
    """
    seen = first_seen(engine)
    known = seen.filter(seen.seen.isnull() | (seen.seen < end_of(as_of))).select(CUSTOMER_KEY)
    return bought.select(CUSTOMER_KEY).union(known).distinct()


def attach(left: ibis.Table, right: ibis.Table, key: str = CUSTOMER_KEY) -> ibis.Table:
    """``left`` with the other columns of ``right`` joined on ``key`` (nulls when missing)."""
    j = left.left_join(right, left[key] == right[key])
    return j.select(
        *[left[c] for c in left.columns], *[right[c] for c in right.columns if c != key]
    )


def _top(table: ibis.Table, by: str, *order: ibis.Value) -> ibis.Table:
    """The first row of each person's ``by`` values, ranked by ``order`` (ties by name)."""
    ranked = table.mutate(
        _rank=ibis.row_number().over(group_by=table[CUSTOMER_KEY], order_by=[*order, table[by]])
    )
    return ranked.filter(ranked._rank == 0).select(CUSTOMER_KEY, by)


def purchase_summary(
    bought: ibis.Table, as_of: dt.date, active_days: int, festive: list
) -> ibis.Table:
    """Per-person figures of the purchases: counts, dates, value, channels, seasonality."""
    period_start = ibis.timestamp(
        dt.datetime.combine(as_of - dt.timedelta(days=active_days - 1), dt.time())
    )
    w_first = ibis.window(
        group_by=bought[CUSTOMER_KEY], order_by=[bought.ordered_at, bought.order_id]
    )
    o = bought.mutate(
        _rank=ibis.row_number().over(w_first),
        _gap=span_days(bought.ordered_at, bought.ordered_at.lag().over(w_first)),
        # The last row is the one without a next: one sort serves first, gaps and last.
        _last=bought.ordered_at.lead().over(w_first).isnull(),
        _festive=in_periods(bought.ordered_at, festive),
        _in_period=bought.ordered_at >= period_start,
        _discounted=bought.discount_amount.fill_null(0) > 0,
    )
    counts = {f"_n_{c}": (o.channel == c).sum() for c in ORDER_CHANNELS}
    amounts = {f"_r_{c}": o.total_amount.sum(where=o.channel == c) for c in ORDER_CHANNELS}
    agg = o.group_by(CUSTOMER_KEY).aggregate(
        first_order_at=o.ordered_at.min(),
        first_channel=o.channel.max(where=o._rank == 0),
        last_order_at=o.ordered_at.max(),
        last_channel=o.channel.max(where=o._last),
        orders=o.count(),
        revenue=o.total_amount.sum(),
        days_to_second_order=o._gap.max(where=o._rank == 1),
        purchase_frequency=o._in_period.sum().cast("int64"),
        period_revenue=o.total_amount.sum(where=o._in_period),
        discount_share=o._discounted.cast("float64").mean(),
        festive_revenue=o.total_amount.sum(where=o._festive),
        festive_orders=o._festive.sum().cast("int64"),
        usual_interval_days=o._gap.median(),
        **counts,
        **amounts,
    )
    flags = [(agg[f"_n_{c}"] > 0) for c in ORDER_CHANNELS]
    channels = ibis.literal(",").join(
        [
            f.ifelse(ibis.literal(c), ibis.null("string"))
            for f, c in zip(flags, ORDER_CHANNELS, strict=True)
        ]
    )
    used = sum((f.cast("int64") for f in flags), ibis.literal(0, "int64"))
    return agg.mutate(
        preferred_channel=preferred_channel(
            {c: agg[f"_n_{c}"] for c in ORDER_CHANNELS},
            {c: agg[f"_r_{c}"].fill_null(0) for c in ORDER_CHANNELS},
        ),
        channels=channels,
        channels_used=used,
        festive_share=ibis.greatest(agg.festive_revenue.fill_null(0), 0)
        / ibis.greatest(agg.revenue, 0.01),
    ).drop(*counts, *amounts, "festive_revenue")


def preferred_channel(
    purchases: dict[str, ibis.IntegerValue], revenue: dict[str, ibis.FloatingValue]
) -> ibis.StringValue:
    """The channel of most purchases, then of most revenue, then first by name."""
    most = ibis.greatest(*purchases.values())
    tied = {c: purchases[c] == most for c in purchases}
    best = ibis.greatest(*(ibis.cases((tied[c], revenue[c])) for c in purchases))
    return ibis.cases(*((tied[c] & (revenue[c] == best), c) for c in sorted(purchases)))


def main_store(bought: ibis.Table) -> ibis.Table:
    """Each person's main store: most store purchases and pick-ups, then the latest."""
    s = bought.filter(bought.store_id.notnull())
    per = s.group_by(CUSTOMER_KEY, "store_id").aggregate(n=s.count(), last=s.ordered_at.max())
    return _top(per, "store_id", ibis.desc(per.n), ibis.desc(per.last)).rename(
        main_store="store_id"
    )


def customer_profile(
    engine: Engine, as_of: dt.date, config: Config, categories: ibis.Table | None = None
) -> ibis.Table:
    """The ``customer_profile`` expression as of ``as_of`` (nothing is written).

    Parameters
    ----------
    engine : Engine
        The workspace's engine; the keyed facts must exist.
    as_of : datetime.date
        Purchases up to the end of this day count.
    config : Config
        The workspace config (``profile`` section).
    categories : ibis.Table, optional
        ``customer_categories`` of the purchases; without it the category columns are null.

    Returns
    -------
    ibis.Table
        One row per person, the columns of ``schema.CUSTOMER_PROFILE`` up to ``region``.
    """
    settings = config.profile
    bought = purchases(engine, as_of)
    first_year = engine.execute(engine.table(CUSTOMER_ORDERS.name).ordered_at.min())
    first_year = first_year.year if first_year is not None else as_of.year
    festive = festive_periods(settings.festive_windows, first_year - 1, as_of.year)
    summary = purchase_summary(bought, as_of, settings.active_days, festive)
    prof = attach(persons(engine, bought, as_of), summary)
    bought_families = families(engine, categories) if categories is not None else []
    if bought_families:
        prof = attach(prof, category_mix(categories, bought_families))
        named = categories.filter(categories.category.notnull())
        favourite = _top(named, "category", ibis.desc(named.amount))
        prof = attach(prof, favourite.rename(favourite_category="category"))
    prof = attach(prof, main_store(bought))
    if engine.has_table(STORES.name):
        st = engine.table(STORES.name)
        st = st.select(
            main_store=st.store_id,
            tourist_store=st.tourist_area,
            _store_region=st.region,
            _store_dept=st.postal_code.substr(0, 2),
        )
        prof = attach(prof, st, "main_store")
    attrs = person_attributes(engine)
    prof = attach(prof, attrs)
    cols = set(prof.columns)
    age = (
        (_epoch(as_of) - prof.birth_date.cast("timestamp").epoch_seconds()) / DAY / 365.25
    ).floor()
    orders = prof.orders.fill_null(0)
    mix = ibis.cases(
        (prof.channels_used == 1, prof.first_channel + "_only"),
        (prof.channels_used > 1, "multichannel"),
        else_=ibis.null("string"),
    )
    if "_store_region" in cols:
        local = (prof.region == prof._store_region) | (
            prof.postal_code.substr(0, 2) == prof._store_dept
        )
        local = ibis.cases(
            (prof.main_store.isnull(), ibis.null("boolean")), else_=local.fill_null(False)
        )
        tourist = prof.tourist_store
    else:
        local = tourist = ibis.null("boolean")

    def maybe(name: str, dtype: str) -> ibis.Value:
        return prof[name] if name in cols else ibis.null(dtype)

    return prof.select(
        **{CUSTOMER_KEY: prof[CUSTOMER_KEY]},
        as_of=ibis.date(as_of),
        first_order_at=prof.first_order_at,
        first_channel=prof.first_channel,
        last_order_at=prof.last_order_at,
        last_channel=prof.last_channel,
        orders=orders.cast("int64"),
        revenue=prof.revenue.fill_null(0.0),
        average_basket=prof.revenue / prof.orders,
        days_since_last_order=days_between(as_of, prof.last_order_at),
        days_to_second_order=prof.days_to_second_order,
        tenure_days=days_between(as_of, prof.first_order_at),
        purchase_frequency=prof.purchase_frequency.fill_null(0).cast("int64"),
        period_revenue=prof.period_revenue.fill_null(0.0),
        active=prof.purchase_frequency.fill_null(0) > 0,
        preferred_channel=prof.preferred_channel,
        channels=prof.channels,
        channels_used=prof.channels_used.fill_null(0).cast("int64"),
        channel_mix=mix,
        category_mix=maybe("category_mix", "string"),
        favourite_family=maybe("favourite_family", "string"),
        favourite_category=maybe("favourite_category", "string"),
        discount_share=prof.discount_share,
        festive_share=prof.festive_share,
        festive_orders=prof.festive_orders.fill_null(0).cast("int64"),
        usual_interval_days=prof.usual_interval_days,
        main_store=prof.main_store,
        tourist_store=tourist,
        local_customer=local,
        age_band=age_band(age),
        region=prof.region,
    )


def write_profile(ws: Workspace, as_of: dt.date | None = None) -> ProfileReport:
    """Build and write ``customer_profile``.

    Parameters
    ----------
    ws : Workspace
        The workspace; identity resolution must have written ``customer_orders``.
    as_of : datetime.date, optional
        Profile date; the date of the last order when omitted.

    Returns
    -------
    ProfileReport
        Counts of what was written.

    Raises
    ------
    UserInputError
        When there are no resolved orders yet.
    """
    engine = ws.engine
    as_of = resolve_as_of(engine, as_of)
    lines = product_lines(engine, purchases(engine, as_of))
    categories = None
    if lines is not None:
        # The only pass over the order lines: every later stage reads this table.
        expr = customer_categories(lines).select(*CUSTOMER_CATEGORIES.column_names)
        engine.write(CUSTOMER_CATEGORIES.name, expr, stage=STAGE)
        categories = engine.table(CUSTOMER_CATEGORIES.name)
    else:
        engine.drop(CUSTOMER_CATEGORIES.name)
    expr = customer_profile(engine, as_of, ws.config, categories)
    name = CUSTOMER_PROFILE.name
    before = engine.table(name).columns if engine.has_table(name) else ()
    engine.write(name, expr, stage=STAGE)
    p = engine.table(CUSTOMER_PROFILE.name)
    row = engine.to_pyarrow(
        p.aggregate(
            customers=p.count(),
            buyers=(p.orders > 0).sum(),
            active=p.active.sum(),
            revenue=p.revenue.sum(),
        )
    ).to_pylist()[0]
    return ProfileReport(
        as_of,
        int(row["customers"]),
        int(row["buyers"] or 0),
        int(row["active"] or 0),
        float(row["revenue"] or 0.0),
        tuple(c for c in before if c not in expr.columns),
    )
