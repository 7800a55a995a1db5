"""Incidents planted in the demo's last year, for the monitor to find, with their truth.

A store closed for ten days, a two-day outage of the app's checkout, three days missing from
the web shop's order feed, a product family mispriced for a week, a region whose order rate
falls gradually (to -40% over three months), and a handful of fraud-like accounts (bursts of
orders within an hour, most orders returned). The calendar's own effects (Christmas, the
sales, Mother's Day) are left as they are: the monitor must not alert on them.

Every draw comes from its own generator seeded by the demo's seed, so planting does not move
the other random draws of a chunk more than the dropped orders do. A person's first order is
never dropped (the person would vanish from every source): a closed store's first-time
customer goes to another store, an outage's or a lost feed's comes back the next day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from parcours.demo.behaviours import BEHAVIOURS, ReplenishmentBehaviour, RhythmBehaviour
from parcours.demo.catalogue import CATEGORIES, STORES
from parcours.demo.columns import Columns
from parcours.demo.people import AREA_REGION
from parcours.demo.purchases import APP, PHONE, STORE, WEB, _rank
from parcours.demo.seasons import Calendar

CLOSURE_DAYS = 10
OUTAGE_DAYS = 2
FEED_DAYS = 3
MISPRICING_DAYS = 7
# Prices of the mispriced family are multiplied by this (a decimal point slipped).
PRICE_FACTOR = 3.0
DECLINE_DAYS = 91
DECLINE_DEPTH = 0.4
# Families sold all year round: a mispricing of festive goods would hide in their season.
MISPRICED_FAMILIES = ("epicerie_fine", "animalerie", "jardin", "maison")
FEED_SOURCE = "web"  # app orders go through the web shop's feed
BURST_ACCOUNTS = 3
BURST_ORDERS = 4
RETURN_ACCOUNTS = 3
MIN_ORDERS_TO_RETURN = 5
ORDER_KPIS = ("orders", "revenue", "customers", "new_customers")


@dataclass(frozen=True)
class PlantedIncident:
    """One planted incident: what it is, which KPI it moves, where and when (both ends in)."""

    kind: str
    kpi: str
    kpis: tuple[str, ...]
    dimension: str
    value: str
    start: date
    end: date
    # Other dimension values the incident moves by construction (the closed store's region).
    moves: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "kpi": self.kpi,
            "kpis": list(self.kpis),
            "dimension": self.dimension,
            "value": self.value,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "moves": [{"dimension": d, "value": v} for d, v in self.moves],
        }

    def offsets(self, cal: Calendar) -> tuple[float, float]:
        """First and after-last day of the incident, in days from the history's start."""
        first = (self.start - cal.start).days
        return float(first), float((self.end - cal.start).days + 1)


@dataclass(frozen=True)
class IncidentPlan:
    """The incidents of one demo, drawn from its seed and calendar."""

    closure: PlantedIncident
    outage: PlantedIncident
    feed: PlantedIncident
    mispricing: PlantedIncident
    decline: PlantedIncident
    seed: int

    @property
    def all(self) -> tuple[PlantedIncident, ...]:
        return (self.closure, self.outage, self.feed, self.mispricing, self.decline)

    @property
    def closed_store(self) -> int:
        return next(i for i, s in enumerate(STORES) if s.code == self.closure.value)

    @property
    def mispriced_categories(self) -> np.ndarray:
        return np.array([i for i, c in enumerate(CATEGORIES) if c.family == self.mispricing.value])


def plan_incidents(seed: int, cal: Calendar) -> IncidentPlan:
    """Draw which store, family and region, and when, in the last year of the history.

    The incidents follow one another without overlapping, so each one's effect is its own;
    the decline ends on the last day, where a monitor must see it while it goes on.
    """
    rng = np.random.default_rng([seed, 17])
    regular = [s for s in STORES if not s.tourist_area]
    store = regular[rng.integers(len(regular))]
    regions = sorted({s.region for s in regular} - {store.region})
    region = regions[rng.integers(len(regions))]
    family = MISPRICED_FAMILIES[rng.integers(len(MISPRICED_FAMILIES))]

    def on(days_before: int, length: int) -> tuple[date, date]:
        start = cal.as_of - timedelta(days=days_before + int(rng.integers(0, 7)))
        return start, start + timedelta(days=length - 1)

    # Days before the as-of date, clear of the default history's sales, Easter, May's
    # public holidays and Mother's Day (the monitor must tell those apart on its own).
    closed = on(255, CLOSURE_DAYS)
    outage = on(225, OUTAGE_DAYS)
    feed = on(190, FEED_DAYS)
    priced = on(140, MISPRICING_DAYS)
    decline = (cal.as_of - timedelta(days=DECLINE_DAYS - 1), cal.as_of)
    return IncidentPlan(
        closure=PlantedIncident(
            "store_closure",
            "orders",
            ORDER_KPIS,
            "store",
            store.code,
            *closed,
            moves=(("region", store.region), ("channel", "store"), ("source", "store")),
        ),
        outage=PlantedIncident(
            "app_checkout_outage",
            "orders",
            ORDER_KPIS,
            "channel",
            "app",
            *outage,
            moves=(("source", FEED_SOURCE),),
        ),
        feed=PlantedIncident(
            "missing_feed",
            "orders",
            ORDER_KPIS,
            "source",
            FEED_SOURCE,
            *feed,
            moves=(("channel", "web"), ("channel", "app")),
        ),
        mispricing=PlantedIncident(
            "mispriced_family",
            "revenue",
            ("revenue", "average_basket"),
            "family",
            family,
            *priced,
        ),
        # A first order is never dropped: the decline does not move the new customers.
        decline=PlantedIncident(
            "regional_decline",
            "orders",
            ("orders", "revenue", "customers"),
            "region",
            region,
            *decline,
        ),
        seed=seed,
    )


def _order_region(o: Columns, p: Columns) -> np.ndarray:
    """The region an order counts for: the store's for a store sale, else the customer's."""
    store_region = np.array([s.region for s in STORES] + [""], dtype=object)[o["store"]]
    person = np.maximum(o["person"], 0)
    home = np.asarray(AREA_REGION.to_numpy(zero_copy_only=False), dtype=object)[
        p["area"][person].astype(np.int64)
    ]
    in_store = (o["store"] >= 0) & ((o["channel"] == STORE) | (o["channel"] == PHONE))
    return np.where(in_store | (o["person"] < 0), store_region, home)


def _within(t: np.ndarray, incident: PlantedIncident, cal: Calendar) -> np.ndarray:
    first, after = incident.offsets(cal)
    return (t >= first) & (t < after)


def plant_in_orders(
    rng: np.random.Generator, plan: IncidentPlan, o: Columns, p: Columns, cal: Calendar
) -> Columns:
    """The orders of people (``make_orders``) with the closure, outage, lost feed and decline.

    Returns the orders kept, sorted by person and time, with ranks, windows and statuses
    recomputed where a first order moved.
    """
    t, ch, rank = o["t"], o["channel"], o["rank"]
    first = rank == 0
    drop = np.zeros(o.rows, bool)

    closed = (o["store"] == plan.closed_store) & _within(t, plan.closure, cal)
    in_store = (ch == STORE) | (ch == PHONE)
    drop |= closed & in_store & ~first
    # A first-time customer goes to another store; a click-and-collect is delivered home.
    others = np.array([i for i in range(len(STORES)) if i != plan.closed_store])
    moved = closed & in_store & first
    o["store"][moved] = others[rng.integers(0, len(others), moved.sum())]
    o["store"][closed & ~in_store] = -1
    o["pickup"][closed & ~in_store] = False

    for incident, hit in (
        (plan.outage, ch == APP),
        (plan.feed, (ch == WEB) | (ch == APP)),
    ):
        hit = hit & _within(t, incident, cal)
        drop |= hit & ~first
        first_back, after = incident.offsets(cal)
        later = t + (after - first_back)
        # A first order bound to a festive or promotion window stays in it.
        same = (cal.window_of(cal.festive, later) == cal.window_of(cal.festive, t)) & (
            cal.window_of(cal.promo, later) == cal.window_of(cal.promo, t)
        )
        o["t"] = np.where(hit & first & same, later, o["t"])

    drop |= _declined(rng, plan, o, p, cal) & ~first
    o = o.take(np.flatnonzero(~drop))
    return _reordered(o, cal)


def _declined(rng, plan: IncidentPlan, o: Columns, p: Columns, cal: Calendar) -> np.ndarray:
    """Orders lost to the regional decline: a share growing linearly to DECLINE_DEPTH."""
    first, after = plan.decline.offsets(cal)
    progress = np.clip((o["t"] - first) / (after - first), 0.0, 1.0)
    in_region = _order_region(o, p) == plan.decline.value
    return in_region & (o["t"] >= first) & (rng.random(o.rows) < DECLINE_DEPTH * progress)


def _reordered(o: Columns, cal: Calendar) -> Columns:
    o = o.take(np.lexsort((o["t"], o["person"])))
    o["rank"] = _rank(o["person"])
    o["status"] = np.where(o["rank"] >= 2, o["status"], 0).astype(np.int8)
    o["promo"] = cal.window_of(cal.promo, o["t"]).astype(np.int16)
    o["festive"] = cal.window_of(cal.festive, o["t"]).astype(np.int16)
    return o


def plant_in_anonymous(
    rng: np.random.Generator, plan: IncidentPlan, anon: Columns, cal: Calendar
) -> Columns:
    """Anonymous store tickets without those of the closed store and of the decline."""
    closed = (anon["store"] == plan.closed_store) & _within(anon["t"], plan.closure, cal)
    first, after = plan.decline.offsets(cal)
    progress = np.clip((anon["t"] - first) / (after - first), 0.0, 1.0)
    region = np.array([s.region for s in STORES], dtype=object)[anon["store"]]
    declined = (region == plan.decline.value) & (rng.random(anon.rows) < DECLINE_DEPTH * progress)
    return anon.take(np.flatnonzero(~(closed | declined)))


def misprice(plan: IncidentPlan, o: Columns, lines: Columns, cal: Calendar) -> None:
    """Multiply the mispriced family's unit prices during its week; order totals follow."""
    orders = np.flatnonzero(_within(o["t"], plan.mispricing, cal))
    hit = np.isin(lines["category"], plan.mispriced_categories) & np.isin(lines["order"], orders)
    unit = np.where(hit, np.rint(lines["unit_cents"] * PRICE_FACTOR), lines["unit_cents"])
    lines["unit_cents"] = unit.astype(np.int64)
    gross = lines["unit_cents"] * lines["quantity"]
    lines["amount_cents"] = np.rint(gross * (1 - o["rate"][lines["order"]])).astype(np.int64)
    n = o.rows
    o["total_cents"] = np.bincount(
        lines["order"], weights=lines["amount_cents"], minlength=n
    ).astype(np.int64)
    o["discount_cents"] = (
        np.bincount(lines["order"], weights=gross, minlength=n).astype(np.int64) - o["total_cents"]
    )


def plant_fraud(
    rng: np.random.Generator, o: Columns, p: Columns, cal: Calendar
) -> tuple[Columns, Columns]:
    """A few persons with a burst of web orders within an hour, a few returning most orders.

    They are ordinary persons of the demo (their own true person, no identity case), so the
    identity truth is untouched; only their orders change.

    Returns
    -------
    tuple of Columns
        The orders, sorted by person and time; the fraud-like persons (``person``, ``kind``).
    """
    count = np.bincount(o["person"], minlength=p.rows)
    plain = (p["case"] == 0) & (count >= 1)
    returners = rng.permutation(np.flatnonzero(plain & (count >= MIN_ORDERS_TO_RETURN)))
    returners = returners[:RETURN_ACCOUNTS]
    # A burst falls between a person's first and last orders: it changes neither when the
    # person started (a new customer stays new) nor when they stopped (a lapsing one).
    first_t = np.full(p.rows, np.inf)
    last_t = np.full(p.rows, -np.inf)
    np.minimum.at(first_t, o["person"], o["t"])
    np.maximum.at(last_t, o["person"], o["t"])
    # Festive, promotion and tourist buyers buy only in their windows, weekly regulars only in
    # store: bursts of web orders go to steady buyers who shop on the web.
    steady = np.array(
        [
            isinstance(b, RhythmBehaviour | ReplenishmentBehaviour) and b.channels.get("web", 0) > 0
            for b in BEHAVIOURS.values()
        ]
    )
    spread = plain & steady[p["behaviour"]] & (last_t - first_t >= 3)
    bursting = np.setdiff1d(np.flatnonzero(spread), returners)
    bursting = rng.permutation(bursting)[:BURST_ACCOUNTS]

    returned = np.isin(o["person"], returners) & (o["rank"] >= 1)
    o["status"] = np.where(returned, 2, o["status"]).astype(np.int8)

    lo, hi = np.floor(first_t[bursting]) + 1, np.floor(last_t[bursting]) - 1
    day = np.floor(lo + rng.random(len(bursting)) * (hi - lo))
    evening = day + (18 + 3 * rng.random(len(bursting))) / 24
    person = np.repeat(bursting, BURST_ORDERS)
    minutes = np.sort(rng.random((len(bursting), BURST_ORDERS)) * 55, axis=1).ravel()
    t = np.floor((np.repeat(evening, BURST_ORDERS) + minutes / 1440) * 86400) / 86400
    # Every column of an order, from the person's first one, then what a web order changes.
    burst = o.take(np.searchsorted(o["person"], person))
    burst["t"] = t
    burst["channel"] = np.full(len(t), WEB, np.int8)
    burst["store"] = np.full(len(t), -1, np.int16)
    burst["pickup"] = np.zeros(len(t), bool)
    burst["rate"] = np.zeros(len(t))
    burst["status"] = np.zeros(len(t), np.int8)
    o = _reordered(Columns.concat([o, burst]), cal)
    kinds = np.array(["burst"] * len(bursting) + ["returns"] * len(returners))
    return o, Columns(person=np.concatenate([bursting, returners]).astype(np.int64), kind=kinds)
