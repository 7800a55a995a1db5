"""Plan triggers: who each plan fires for on a day, and which occurrence fired it.

A trigger is an expression builder: tables in, one row per (person, occurrence) out. A fact
dated ``f`` with a delay of ``days`` fires on day ``D`` when ``D - grace < f + days <= D``, so
a skipped day is caught up; the journal keeps each occurrence to a single decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis

from parcours.config import Config, PlanConfig, TriggerConfig
from parcours.engine import Engine
from parcours.errors import MissingInputError, UserInputError
from parcours.facts import end_of, purchases
from parcours.metrics.profile import span_days
from parcours.metrics.seasons import festive_periods
from parcours.schema import (
    CUSTOMER_CATEGORIES,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_PROFILE,
    KPI_RENEWAL,
    KPI_SECOND_PURCHASE,
)

# Columns of every trigger's output.
CANDIDATE_COLUMNS = (CUSTOMER_KEY, "occurrence", "detail")
SECOND_PURCHASE_FALLBACK_DAYS = 30.0
CROSS_SELL_DAYS = 90
# A learned pair needs this many persons: fewer make a lift of noise.
MIN_PAIR_PERSONS = 20


@dataclass(frozen=True)
class Day:
    """The run's date and its calendar facts."""

    as_of: dt.date
    festive: tuple[tuple[str, dt.date, dt.date], ...]

    @classmethod
    def of(cls, as_of: dt.date, config: Config) -> Day:
        periods = festive_periods(config.profile.festive_windows, as_of.year - 1, as_of.year)
        return cls(as_of, tuple(p for p in periods if p[1] <= as_of <= p[2]))

    @property
    def in_season(self) -> bool:
        return bool(self.festive)


def _date(value: dt.date) -> ibis.Value:
    return ibis.date(value)


def _fires(fact_day: ibis.DateValue, days: ibis.Value | int, trig: TriggerConfig, day: Day):
    """``D - grace < fact + days <= D``, in whole days."""
    due = fact_day + (days if isinstance(days, ibis.Expr) else ibis.literal(days)).cast(
        "int32"
    ).as_interval("D")
    return (due <= _date(day.as_of)) & (
        due > _date(day.as_of - dt.timedelta(days=trig.grace_days + 1))
    )


def _buyers(engine: Engine, as_of: dt.date) -> ibis.Table:
    """Per person, as of the day: first and last purchase, their channels, the count."""
    p = purchases(engine, as_of)
    return p.group_by(CUSTOMER_KEY).aggregate(
        first_at=p.ordered_at.min(),
        last_at=p.ordered_at.max(),
        first_channel=p.channel.argmin(p.ordered_at),
        orders=p.count(),
    )


def _out(t: ibis.Table, occurrence: ibis.Value, detail: ibis.Value | None = None) -> ibis.Table:
    return t.select(
        t[CUSTOMER_KEY],
        occurrence=occurrence,
        detail=detail if detail is not None else ibis.null("string"),
    )


def _first_purchase(engine: Engine, trig: TriggerConfig, day: Day, config: Config):
    b = _buyers(engine, day.as_of)
    b = b.filter(_fires(b.first_at.date(), int(trig.days), trig, day))
    return _out(b, "first:" + b.first_at.date().cast("string"))


def _no_second_purchase(engine: Engine, trig: TriggerConfig, day: Day, config: Config):
    b = _buyers(engine, day.as_of).filter(lambda t: t.orders == 1)
    if trig.days == "auto":
        if not engine.has_table(KPI_SECOND_PURCHASE.name):
            raise MissingInputError(
                "days: auto needs the second-purchase delays", hint="parcours kpis"
            )
        k = engine.table(KPI_SECOND_PURCHASE.name)
        every = k.filter(k.first_channel == "all").select(all_days=k.median_days)
        per = k.select(k.first_channel, channel_days=k.median_days)
        b = b.left_join(per, b.first_channel == per.first_channel).cross_join(every)
        days = ibis.coalesce(
            b.channel_days, b.all_days, ibis.literal(SECOND_PURCHASE_FALLBACK_DAYS)
        ).round()
    else:
        days = trig.days
    b = b.filter(_fires(b.first_at.date(), days, trig, day))
    return _out(b, "first:" + b.first_at.date().cast("string"))


def _usual_intervals(engine: Engine, as_of: dt.date) -> ibis.Table:
    """Per buyer, as of the day: the last purchase and the median gap between two purchases."""
    p = purchases(engine, as_of)
    w = ibis.window(group_by=p[CUSTOMER_KEY], order_by=[p.ordered_at, p.order_id])
    g = p.mutate(gap=span_days(p.ordered_at, p.ordered_at.lag().over(w)))
    return g.group_by(CUSTOMER_KEY).aggregate(last_at=g.ordered_at.max(), interval=g.gap.median())


def _lapsing(engine: Engine, trig: TriggerConfig, day: Day, config: Config):
    b = _usual_intervals(engine, day.as_of)
    # A one-time buyer's usual interval is the population's.
    typical = b.aggregate(typical=b.interval.median())
    b = b.cross_join(typical)
    silence = span_days(end_of(day.as_of), b.last_at)
    limit = ibis.greatest(
        trig.factor * ibis.coalesce(b.interval, b.typical, ibis.literal(90.0)), trig.min_days
    )
    lapsing = (silence > limit) & (silence <= trig.max_days)
    if trig.p_alive_below is not None and engine.has_table(CUSTOMER_PROFILE.name):
        prof = engine.table(CUSTOMER_PROFILE.name)
        if "p_alive" in prof.columns:
            prof = prof.select(prof[CUSTOMER_KEY], p_alive=prof.p_alive)
            b = b.left_join(prof, CUSTOMER_KEY)
            lapsing = lapsing | ((b.p_alive < trig.p_alive_below) & (silence > trig.min_days))
    b = b.filter(lapsing)
    return _out(b, "last:" + b.last_at.date().cast("string"))


def _categories(engine: Engine, day: Day) -> ibis.Table:
    if not engine.has_table(CUSTOMER_CATEGORIES.name):
        raise MissingInputError("no per-category purchases", hint="parcours kpis")
    c = engine.table(CUSTOMER_CATEGORIES.name)
    return c.filter(c.category.notnull(), c.last_purchase_at < end_of(day.as_of))


def _renewal_due(engine: Engine, trig: TriggerConfig, day: Day, config: Config):
    c = _categories(engine, day)
    if engine.has_table(KPI_RENEWAL.name):
        r = engine.table(KPI_RENEWAL.name).select("category", usual=lambda t: t.median_days)
        c = c.left_join(r, "category")
        renewal = ibis.coalesce(c.usual_interval_days, c.usual)
    else:
        renewal = c.usual_interval_days
    c = c.filter(renewal.notnull()).mutate(renewal=renewal.round())
    c = c.filter(_fires(c.last_purchase_at.date(), c.renewal + trig.days, trig, day))
    # One reminder a day per person: the category of most spend among those due.
    c = c.mutate(
        rank=ibis.row_number().over(
            group_by=c[CUSTOMER_KEY], order_by=[ibis.desc(c.amount), c.category]
        )
    ).filter(lambda t: t["rank"] == 0)
    return _out(
        c, "renew:" + c.category + ":" + c.last_purchase_at.date().cast("string"), c.category
    )


def _event(engine: Engine, trig: TriggerConfig, day: Day, config: Config):
    if not engine.has_table(CUSTOMER_EVENTS.name):
        raise MissingInputError("no events resolved to persons", hint="parcours resolve")
    e = engine.table(CUSTOMER_EVENTS.name)
    e = e.filter(
        e[CUSTOMER_KEY].notnull(),
        e.type.isin(trig.event_types),
        e.occurred_at < end_of(day.as_of),
        _fires(e.occurred_at.date(), int(trig.days), trig, day),
    )
    e = e.mutate(
        rank=ibis.row_number().over(
            group_by=e[CUSTOMER_KEY], order_by=[ibis.desc(e.occurred_at), e.event_id]
        )
    ).filter(lambda t: t["rank"] == 0)
    return _out(e, "event:" + e.source + ":" + e.event_id, e.type)


def family_pairs(engine: Engine, day: Day) -> ibis.Table:
    """Families bought after another within 90 days, with their lift; best first per family.

    Over the persons whose first purchase of X is at least 90 days old: P(first purchase of
    Y within 90 days after the first of X), divided by the chance of a first purchase of Y
    within 90 days after one's first purchase of anything.
    """
    c = _categories(engine, day)
    c = c.filter(c.family.notnull(), c.family != "unknown")
    f = c.group_by([c[CUSTOMER_KEY], c.family]).aggregate(first_at=c.first_purchase_at.min())
    cutoff = end_of(day.as_of - dt.timedelta(days=CROSS_SELL_DAYS))
    window = CROSS_SELL_DAYS * 86400

    def after(later: ibis.Table, earlier_at: ibis.Value) -> ibis.Value:
        gap = later.first_at.epoch_seconds() - earlier_at.epoch_seconds()
        return (gap > 0) & (gap <= window)

    starts = f.group_by(CUSTOMER_KEY).aggregate(start=f.first_at.min())
    starts = starts.filter(starts.start < cutoff)
    y0 = f.view()
    adopted = starts.join(y0, (starts[CUSTOMER_KEY] == y0[CUSTOMER_KEY]) & after(y0, starts.start))
    base = adopted.group_by(to_family=y0.family).aggregate(adopters=adopted[CUSTOMER_KEY].nunique())
    base = base.cross_join(starts.aggregate(people=starts.count())).mutate(
        share=lambda t: t.adopters / t.people
    )
    x, y = f.view(), f.view()
    x = x.filter(x.first_at < cutoff)
    seen = x.group_by(x.family).aggregate(n_x=x[CUSTOMER_KEY].nunique())
    j = x.join(
        y, (x[CUSTOMER_KEY] == y[CUSTOMER_KEY]) & (x.family != y.family) & after(y, x.first_at)
    ).select(x[CUSTOMER_KEY], from_family=x.family, to_family=y.family)
    pairs = j.group_by(["from_family", "to_family"]).aggregate(n_xy=j[CUSTOMER_KEY].nunique())
    pairs = pairs.join(seen, pairs.from_family == seen.family).select(
        pairs.from_family, pairs.to_family, pairs.n_xy, seen.n_x
    )
    pairs = pairs.join(base, "to_family").select(
        "from_family", "to_family", "n_xy", "n_x", lift=(pairs.n_xy / pairs.n_x) / base.share
    )
    return pairs.mutate(
        rank=ibis.row_number().over(
            group_by=pairs.from_family, order_by=[ibis.desc(pairs.lift), pairs.to_family]
        )
    )


def _family_purchase(engine: Engine, trig: TriggerConfig, day: Day, config: Config):
    c = _categories(engine, day)
    f = c.filter(c.family.notnull(), c.family != "unknown")
    f = f.group_by([f[CUSTOMER_KEY], f.family]).aggregate(first_at=f.first_purchase_at.min())
    fired = f.filter(_fires(f.first_at.date(), int(trig.days), trig, day))
    if trig.family is not None:
        fired = fired.filter(fired.family == trig.family)
    if trig.then_family is not None:
        offer = fired.mutate(offer=ibis.literal(trig.then_family))
    else:
        pairs = family_pairs(engine, day)
        pairs = pairs.filter(pairs.n_xy >= MIN_PAIR_PERSONS)
        pairs = pairs.mutate(
            rank=ibis.row_number().over(
                group_by=pairs.from_family, order_by=[ibis.desc(pairs.lift), pairs.to_family]
            )
        )
        best = pairs.filter((pairs["rank"] == 0) & (pairs.lift > 1))
        offer = fired.join(best, fired.family == best.from_family).select(
            *fired.columns, offer=best.to_family
        )
    # Not to those who already buy the family offered.
    owned = f.select(f[CUSTOMER_KEY], owned=f.family)
    offer = offer.anti_join(
        owned, (offer[CUSTOMER_KEY] == owned[CUSTOMER_KEY]) & (offer.offer == owned.owned)
    )
    offer = offer.mutate(
        rank=ibis.row_number().over(
            group_by=offer[CUSTOMER_KEY], order_by=[ibis.desc(offer.first_at), offer.family]
        )
    ).filter(lambda t: t["rank"] == 0)
    return _out(
        offer,
        "family:" + offer.family + ":" + offer.first_at.date().cast("string"),
        offer.offer,
    )


def _calendar(engine: Engine, trig: TriggerConfig, day: Day, config: Config):
    windows = [p for p in day.festive if not trig.windows or p[0].rsplit("-", 1)[0] in trig.windows]
    b = _buyers(engine, day.as_of)
    if not windows:
        return _out(b.filter(ibis.literal(False)), ibis.literal(""))
    return _out(b, ibis.literal(f"season:{windows[0][0]}"), ibis.literal(windows[0][0]))


TRIGGERS = {
    "first_purchase": _first_purchase,
    "no_second_purchase": _no_second_purchase,
    "renewal_due": _renewal_due,
    "lapsing": _lapsing,
    "event": _event,
    "family_purchase": _family_purchase,
    "calendar": _calendar,
}


def audience_filter(people: ibis.Table, name: str, plan: PlanConfig) -> list[ibis.Value]:
    """The plan's audience as predicates over ``people`` (the profile and contact fields).

    Raises
    ------
    UserInputError
        When the audience names a column the profile does not have.
    """
    preds = []
    for column, value in plan.audience.items():
        if column not in people.columns:
            raise UserInputError(
                f"parcours.yaml: plans.scenarios.{name}.audience.{column}: unknown column",
                hint=f"available: {', '.join(sorted(people.columns))}",
            )
        col = people[column]
        if isinstance(value, dict):
            unknown = set(value) - {"min", "max"}
            if unknown:
                raise UserInputError(
                    f"parcours.yaml: plans.scenarios.{name}.audience.{column}: "
                    f"unknown bound {sorted(unknown)[0]!r}",
                    hint="write {min: A, max: B}",
                )
            if "min" in value:
                preds.append(col >= value["min"])
            if "max" in value:
                preds.append(col <= value["max"])
        elif isinstance(value, list):
            preds.append(col.isin(value))
        else:
            preds.append(col == value)
    return preds


def candidates(
    engine: Engine, name: str, plan: PlanConfig, day: Day, config: Config, people: ibis.Table
) -> ibis.Table:
    """The persons ``plan`` fires for on ``day``, within its audience."""
    found = TRIGGERS[plan.trigger.kind](engine, plan.trigger, day, config)
    preds = audience_filter(people, name, plan)
    if preds:
        keep = people.filter(*preds).select(people[CUSTOMER_KEY])
        found = found.semi_join(keep, CUSTOMER_KEY)
    return found.select(*CANDIDATE_COLUMNS).mutate(plan=ibis.literal(name))
