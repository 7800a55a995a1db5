"""Orders and order lines of the demo, drawn per behaviour with vectorised numpy.

Times are float days from the start of the history. An order's purchase dates come from its
person's behaviour (a rhythm, the festive or promotion windows, a holiday visit); its lines
from the behaviour's category preferences and basket size, plus the durable and festive
extra lines.
"""

from __future__ import annotations

import numpy as np

from parcours.demo.behaviours import (
    ANONYMOUS_SALES,
    BEHAVIOURS,
    CLICK_AND_COLLECT,
    FESTIVE_SEASON,
    ORDER_CHANNELS,
    PROMOTIONS,
    RENEWAL_DAYS,
    SECOND_PURCHASE,
    STATUSES,
    FestiveBehaviour,
    LapsingBehaviour,
    PromoBehaviour,
    ReplenishmentBehaviour,
    RhythmBehaviour,
    TouristBehaviour,
)
from parcours.demo.catalogue import CATEGORIES, CATEGORY_INDEX, STORES, URBAN_STORES, Catalogue
from parcours.demo.columns import Columns
from parcours.demo.seasons import Calendar

BEHAVIOUR_NAMES = tuple(BEHAVIOURS)
ANONYMOUS = len(BEHAVIOUR_NAMES)  # behaviour code of anonymous store tickets
STORE, WEB, APP, PHONE = range(4)
STATUS_NAMES = ("completed", "cancelled", "returned")
DURABLE = np.array([i for i, c in enumerate(CATEGORIES) if c.kind == "durable"])
FESTIVE_CATS = np.array([CATEGORY_INDEX[c] for c in FESTIVE_SEASON.categories])


def _probs(mapping, order) -> np.ndarray:
    p = np.array([mapping.get(k, 0.0) for k in order], np.float64)
    return p / p.sum()


def _gamma_train(
    rng: np.random.Generator,
    start: np.ndarray,
    end: np.ndarray,
    gap: np.ndarray,
    shape: float,
    second_mean: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Purchase times from ``start`` (the first) every gamma(``gap``) days until ``end``.

    Returns the owner (position in the inputs) and the time of each purchase.
    """
    span = np.maximum(end - start, 0.0)
    expected = span / gap
    nmax = np.ceil(expected + 4 * np.sqrt(expected / shape + 1) + 3).astype(np.int64)
    if second_mean is not None:
        nmax += 1
    owner = np.repeat(np.arange(len(start)), nmax)
    first = np.cumsum(nmax) - nmax
    gaps = rng.gamma(shape, 1.0, owner.size) * (gap / shape)[owner]
    gaps[first] = 0.0
    if second_mean is not None:
        s = SECOND_PURCHASE.shape
        gaps[first + 1] = rng.gamma(s, 1.0, len(first)) * (second_mean / s)
    cs = np.cumsum(gaps)
    t = start[owner] + cs - cs[first][owner]
    keep = t < end[owner]
    return owner[keep], t[keep]


def _window_orders(
    rng: np.random.Generator,
    n: int,
    first: np.ndarray,
    last: np.ndarray,
    recruit_from: np.ndarray,
    participation: np.ndarray,
    extra_prob: float,
    late_skew: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orders in windows: recruited in one of ``recruit_from``, then each later window.

    Returns owner, time and window of each order.
    """
    w = len(first)
    recruit = recruit_from[rng.integers(0, len(recruit_from), n)]
    later = np.arange(w)[None, :] > recruit[:, None]
    takes = (np.arange(w)[None, :] == recruit[:, None]) | (
        later & (rng.random((n, w)) < participation[None, :])
    )
    count = takes * (1 + (rng.random((n, w)) < extra_prob))
    owner, window = np.nonzero(count)
    reps = count[owner, window]
    owner, window = np.repeat(owner, reps), np.repeat(window, reps)
    u = rng.random(len(owner))
    u = np.where(late_skew[window], rng.beta(2.5, 1.0, len(owner)), u)
    t = first[window] + u * (last[window] - first[window])
    return owner, t, window


def make_orders(rng: np.random.Generator, p: Columns, cal: Calendar) -> Columns:
    """Draw every order of the people of one chunk.

    Sets the planted person-level values on ``p`` as well: ``lapse_t`` (the date a lapsing
    customer stops), ``favourite`` (the consumable category of a replenishment customer).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    p : Columns
        The people (``behaviour``, ``main``, ``store``, ``local``).
    cal : Calendar
        The history and its windows.

    Returns
    -------
    Columns
        One row per order, sorted by person and time: ``person``, ``t``, ``rank``,
        ``channel``, ``store``, ``pickup``, ``promo``, ``festive``, ``rate`` (discount) and
        ``status``.
    """
    days = float(cal.days)
    n = p.rows
    p["lapse_t"] = np.full(n, np.nan)
    p["favourite"] = np.full(n, -1, np.int16)
    owners, times = [], []
    for b, name in enumerate(BEHAVIOUR_NAMES):
        spec = BEHAVIOURS[name]
        sel = np.flatnonzero(p["behaviour"] == b)
        k = len(sel)
        if not k:
            continue
        if isinstance(spec, RhythmBehaviour):
            if spec.recent_days:
                start = days - spec.recent_days * rng.random(k)
            elif isinstance(spec, LapsingBehaviour):
                latest = days - spec.active_min_days - spec.silent_min_days - 60
                start = rng.random(k) * latest
            else:
                start = rng.random(k) * (days - 30)
            end = np.full(k, days)
            if isinstance(spec, LapsingBehaviour):
                lo = start + spec.active_min_days
                hi = days - spec.silent_min_days - 1
                end = lo + rng.random(k) * (hi - lo)
                # Orders fall before `end`, on its day at the latest: none from the next midnight.
                p["lapse_t"][sel] = np.floor(end) + 1
            second = None
            if spec.second_purchase_rule:
                means = np.array([SECOND_PURCHASE.mean_days[c] for c in ORDER_CHANNELS])
                second = means[p["main"][sel]]
            owner, t = _gamma_train(
                rng, start, end, np.full(k, spec.gap_days), spec.gap_shape, second
            )
        elif isinstance(spec, ReplenishmentBehaviour):
            cats = list(spec.favourites)
            fav = np.array([CATEGORY_INDEX[c] for c in cats])[
                rng.choice(len(cats), k, p=_probs(spec.favourites, cats))
            ]
            p["favourite"][sel] = fav
            renewal = np.array([RENEWAL_DAYS.get(c.code, 0) for c in CATEGORIES], np.float64)
            start = rng.random(k) * (days - 30)
            owner, t = _gamma_train(
                rng, start, np.full(k, days), renewal[fav], 1.0 / spec.renewal_cv**2
            )
        elif isinstance(spec, FestiveBehaviour):
            first, last = cal.offsets(cal.festive)
            kinds = np.array([w.kind for w in cal.festive])
            part = np.array([spec.participation.get(x, 0.0) for x in kinds])
            recruit = np.flatnonzero(np.isin(kinds, ("christmas", "easter")))
            owner, t, _ = _window_orders(
                rng, k, first, last, recruit, part, spec.extra_order_prob, kinds == "christmas"
            )
        elif isinstance(spec, PromoBehaviour):
            first, last = cal.offsets(cal.promo)
            w = len(first)
            owner, t, _ = _window_orders(
                rng,
                k,
                first,
                last,
                np.arange(w),
                np.full(w, spec.participation),
                spec.extra_order_prob,
                np.zeros(w, bool),
            )
        elif isinstance(spec, TouristBehaviour):
            first, last = cal.offsets(cal.holidays)
            kinds = np.array([w.kind for w in cal.holidays])
            summer = np.flatnonzero(kinds == "summer")
            other = np.flatnonzero(kinds != "summer")
            pick = np.where(
                rng.random(k) < spec.summer_share,
                summer[rng.integers(0, len(summer), k)],
                other[rng.integers(0, len(other), k)],
            )
            owner = np.arange(k)
            t = first[pick] + rng.random(k) * (last[pick] - first[pick])
        else:  # pragma: no cover - every behaviour class is handled above
            raise TypeError(f"unknown behaviour {spec!r}")
        owners.append(sel[owner])
        times.append(np.minimum(t, days - 1e-6))
    o = Columns(person=np.concatenate(owners).astype(np.int64), t=np.concatenate(times))
    o = o.take(np.lexsort((o["t"], o["person"])))
    _channels(rng, o, p)
    _time_of_day(rng, o)
    o = o.take(np.lexsort((o["t"], o["person"])))
    o["rank"] = _rank(o["person"])
    _places_and_prices(rng, o, p, cal)
    o["status"] = _statuses(rng, o)
    return o


def _rank(person: np.ndarray) -> np.ndarray:
    """Position of each row within its person's run (rows sorted by person)."""
    n = len(person)
    if not n:
        return np.zeros(0, np.int32)
    start = np.r_[True, person[1:] != person[:-1]]
    idx = np.arange(n)
    first = np.maximum.accumulate(np.where(start, idx, 0))
    return (idx - first).astype(np.int32)


def _channels(rng: np.random.Generator, o: Columns, p: Columns) -> None:
    beh = p["behaviour"][o["person"]]
    main = p["main"][o["person"]]
    channel = main.copy()
    rank = _rank(o["person"])
    for b, name in enumerate(BEHAVIOUR_NAMES):
        spec = BEHAVIOURS[name]
        sel = np.flatnonzero((beh == b) & (rank > 0))
        if not len(sel):
            continue
        other = rng.choice(len(ORDER_CHANNELS), len(sel), p=_probs(spec.channels, ORDER_CHANNELS))
        loyal = rng.random(len(sel)) < spec.channel_loyalty
        channel[sel] = np.where(loyal, main[sel], other)
    o["channel"] = channel.astype(np.int8)


def _time_of_day(rng: np.random.Generator, o: Columns) -> None:
    """Store hours for store and phone orders (to the minute), evenings online (to the second)."""
    day = np.floor(o["t"])
    n = o.rows
    in_store = (o["channel"] == STORE) | (o["channel"] == PHONE)
    hour = np.where(
        in_store, 9.0 + 10.5 * rng.beta(2.0, 2.0, n), rng.triangular(7.0, 20.5, 23.99, n)
    )
    t = day + hour / 24.0
    o["t"] = np.where(in_store, np.floor(t * 1440) / 1440, np.floor(t * 86400) / 86400)


def _places_and_prices(rng: np.random.Generator, o: Columns, p: Columns, cal: Calendar) -> None:
    n = o.rows
    person = o["person"]
    ch = o["channel"]
    store = p["store"][person].astype(np.int16)
    multi = p["behaviour"][person] == BEHAVIOUR_NAMES.index("multichannel")
    elsewhere = multi & (rng.random(n) < 0.1)
    store = np.where(
        elsewhere, np.array(URBAN_STORES)[rng.integers(0, len(URBAN_STORES), n)], store
    )
    online = (ch == WEB) | (ch == APP)
    pickup = online & p["local"][person] & (rng.random(n) < CLICK_AND_COLLECT.prob)
    o["store"] = np.where(online & ~pickup, -1, store).astype(np.int16)
    o["pickup"] = pickup
    o["promo"] = cal.window_of(cal.promo, o["t"]).astype(np.int16)
    o["festive"] = cal.window_of(cal.festive, o["t"]).astype(np.int16)
    hunter = np.array([isinstance(BEHAVIOURS[b], PromoBehaviour) for b in BEHAVIOUR_NAMES])
    discounted = (o["promo"] >= 0) & (
        hunter[p["behaviour"][person]] | (rng.random(n) < PROMOTIONS.other_prob)
    )
    rates = np.array(PROMOTIONS.rates)[
        rng.choice(len(PROMOTIONS.rates), n, p=np.array(PROMOTIONS.rate_probs))
    ]
    o["rate"] = np.where(discounted, rates, 0.0)


def _statuses(rng: np.random.Generator, o: Columns) -> np.ndarray:
    cancel = np.array([STATUSES.cancelled[c] for c in ORDER_CHANNELS])[o["channel"]]
    ret = np.array([STATUSES.returned[c] for c in ORDER_CHANNELS])[o["channel"]]
    u = rng.random(o.rows)
    status = np.where(u < cancel, 1, np.where(u < cancel + ret, 2, 0))
    return np.where(o["rank"] >= 2, status, 0).astype(np.int8)


def make_anonymous_orders(rng: np.random.Generator, store_orders: int, cal: Calendar) -> Columns:
    """Store tickets without a customer card, in proportion to the carded store tickets.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    store_orders : int
        Number of carded store tickets of the chunk.
    cal : Calendar
        The history.

    Returns
    -------
    Columns
        Orders with ``person`` -1, in the order columns of ``make_orders``.
    """
    share = ANONYMOUS_SALES.share
    n = int(rng.poisson(store_orders * share / (1 - share)))
    t = np.floor(rng.random(n) * cal.days) + (9 + 10.5 * rng.beta(2, 2, n)) / 24
    o = Columns(
        person=np.full(n, -1, np.int64),
        t=np.sort(np.floor(t * 1440) / 1440),
        channel=np.zeros(n, np.int8),
    )
    o["rank"] = np.zeros(n, np.int32)
    o["store"] = rng.integers(0, len(STORES), n).astype(np.int16)
    o["pickup"] = np.zeros(n, bool)
    o["promo"] = cal.window_of(cal.promo, o["t"]).astype(np.int16)
    o["festive"] = cal.window_of(cal.festive, o["t"]).astype(np.int16)
    o["rate"] = np.zeros(n)
    o["status"] = np.zeros(n, np.int8)
    return o


def make_lines(
    rng: np.random.Generator, o: Columns, behaviour: np.ndarray, p: Columns, cat: Catalogue
) -> Columns:
    """Draw the lines of each order and set its amounts.

    Adds ``total_cents``, ``discount_cents`` and ``lines`` to ``o``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    o : Columns
        Orders, sorted by person and time (anonymous ones last).
    behaviour : numpy.ndarray
        Behaviour code of each order (``ANONYMOUS`` for anonymous tickets).
    p : Columns
        The people (``favourite``).
    cat : Catalogue
        The products.

    Returns
    -------
    Columns
        One row per line: ``order`` (position in ``o``), ``line_no`` (from 1), ``product``,
        ``category``, ``quantity``, ``unit_cents``, ``amount_cents``.
    """
    n = o.rows
    specs = [BEHAVIOURS[b] for b in BEHAVIOUR_NAMES] + [ANONYMOUS_SALES]
    basket = np.array([s.basket_eur for s in specs])[behaviour]
    sigma = np.array([s.basket_sigma for s in specs])[behaviour]
    lines_mean = np.array([s.lines_mean for s in specs])[behaviour]
    target = basket * np.exp(rng.normal(-(sigma**2) / 2, sigma))

    # Durable products: at most once per category and person.
    durable_prob = np.array([getattr(s, "durable_prob", 0.0) for s in specs])[behaviour]
    has_person = o["person"] >= 0
    wants = has_person & (rng.random(n) < durable_prob)
    nth = _cum_within(o["person"], wants) - 1
    wants &= nth < len(DURABLE)
    perm = np.argsort(rng.random((p.rows, len(DURABLE))), axis=1)
    d_orders = np.flatnonzero(wants)
    d_cat = DURABLE[perm[o["person"][d_orders], nth[d_orders]]]
    d_prod = cat.sample(rng, d_cat)
    d_price = cat.price_cents[d_prod] / 100.0
    target[d_orders] = np.maximum(target[d_orders] - d_price, 0.25 * target[d_orders])

    # Festive products in others' baskets during the festive windows.
    festive_beh = np.array([isinstance(s, FestiveBehaviour) for s in specs])[behaviour]
    f_orders = np.flatnonzero(
        (o["festive"] >= 0) & ~festive_beh & (rng.random(n) < FESTIVE_SEASON.extra_line_prob)
    )
    f_cat = FESTIVE_CATS[rng.integers(0, len(FESTIVE_CATS), len(f_orders))]

    # Regular lines from the behaviour's category preferences.
    count = 1 + rng.poisson(np.maximum(lines_mean - 1, 0))
    r_order = np.repeat(np.arange(n), count)
    r_first = np.r_[True, r_order[1:] != r_order[:-1]] if len(r_order) else np.zeros(0, bool)
    r_cat = np.empty(len(r_order), np.int64)
    r_beh = behaviour[r_order]
    for b, spec in enumerate(specs):
        sel = np.flatnonzero(r_beh == b)
        if not len(sel):
            continue
        codes = list(spec.categories)
        idx = np.array([CATEGORY_INDEX[c] for c in codes])
        r_cat[sel] = idx[rng.choice(len(codes), len(sel), p=_probs(spec.categories, codes))]
    share = rng.gamma(1.0, 1.0, len(r_order))
    fav_share = np.zeros(len(r_order))
    for b, spec in enumerate(specs):
        if not isinstance(spec, ReplenishmentBehaviour):
            continue
        sel = np.flatnonzero((r_beh == b) & r_first)
        r_cat[sel] = p["favourite"][o["person"][r_order[sel]]]
        # A lone favourite line takes the whole basket.
        fav_share[sel] = np.where(count[r_order[sel]] > 1, spec.favourite_share, 1.0)
    rest = np.bincount(r_order, weights=np.where(fav_share > 0, 0.0, share), minlength=n)
    has_fav = np.bincount(r_order, weights=fav_share, minlength=n)
    spend = np.where(
        fav_share > 0, fav_share, share / np.maximum(rest[r_order], 1e-12) * (1 - has_fav[r_order])
    )
    r_prod = cat.sample(rng, r_cat)
    price = cat.price_cents[r_prod] / 100.0
    # Unbiased rounding keeps the mean basket on target; a line rounded to 0 is dropped,
    # except the order's first line (an order has at least one).
    want = target[r_order] * spend / price
    qty = np.floor(want + rng.random(len(want)))
    biggest = np.zeros(len(want), bool)
    if len(want):  # every order has at least one regular line
        biggest = want == np.maximum.reduceat(want, np.flatnonzero(r_first))[r_order]
    qty = np.where(biggest, np.maximum(qty, 1), np.minimum(qty, 12))
    keep = qty > 0

    order = np.concatenate([r_order[keep], d_orders, f_orders])
    product = np.concatenate([r_prod[keep], d_prod, cat.sample(rng, f_cat)])
    quantity = np.concatenate([qty[keep], np.ones(len(d_orders) + len(f_orders))]).astype(np.int64)
    sort = np.argsort(order, kind="stable")
    order, product, quantity = order[sort], product[sort], quantity[sort]
    unit = cat.price_cents[product]
    gross = unit * quantity
    amount = np.rint(gross * (1 - o["rate"][order])).astype(np.int64)
    lines = Columns(
        order=order,
        line_no=_rank(order) + 1,
        product=product,
        category=cat.category[product],
        quantity=quantity,
        unit_cents=unit,
        amount_cents=amount,
    )
    o["total_cents"] = np.bincount(order, weights=amount, minlength=n).astype(np.int64)
    o["discount_cents"] = (
        np.bincount(order, weights=gross, minlength=n).astype(np.int64) - o["total_cents"]
    )
    o["lines"] = np.bincount(order, minlength=n).astype(np.int32)
    return lines


def _cum_within(person: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """Running count of ``flag`` within each person's run of rows."""
    cs = np.cumsum(flag)
    start = np.r_[True, person[1:] != person[:-1]] if len(person) else np.zeros(0, bool)
    base = np.maximum.accumulate(np.where(start, cs - flag, 0))
    return cs - base
