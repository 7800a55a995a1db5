"""Web and app browsing sessions, consistent with the orders.

Every web or app order ends a session page_view -> product_view -> add_to_cart ->
checkout_start -> purchase whose purchase event carries the order id at the order's time.
Sessions that stop earlier (abandoned carts and checkouts, plain browsing) are added before
it at the rates of ``behaviours.FUNNELS``. A session may start anonymous (cookie only) and
turn identified at an ``identify`` event that carries both ids.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parcours.demo import formats
from parcours.demo.behaviours import Funnel
from parcours.demo.catalogue import CATEGORIES, Catalogue
from parcours.demo.columns import Columns
from parcours.demo.purchases import _rank

EVENT_NAMES = ("page_view", "product_view", "identify", "add_to_cart", "checkout_start", "purchase")
PAGE_VIEW, PRODUCT_VIEW, IDENTIFY, ADD_TO_CART, CHECKOUT_START, PURCHASE = range(6)
BROWSE, CART, CHECKOUT, BUY, LOYALTY_CARD = range(5)  # how far a session goes
MAX_PRODUCTS = 2  # products looked at and put in the cart per session
SECOND = 1 / 86400

# Web pages are written as paths of https://www.jardin-gourmand.fr (the site of WEB_DOMAIN).
PAGES = {
    "web": ("/", "/p/", "/connexion", "/commande/paiement", "/commande/confirmation"),
    "app": (
        "app://accueil",
        "app://produit/",
        "app://connexion",
        "app://paiement",
        "app://confirmation",
    ),
}
LOYALTY_PAGE = "app://carte-fidelite"


def _products(o: Columns, lines: Columns, orders: np.ndarray) -> np.ndarray:
    """The first ``MAX_PRODUCTS`` products of each order (-1 beyond its lines)."""
    start = np.cumsum(o["lines"]) - o["lines"]
    out = np.full((len(orders), MAX_PRODUCTS), -1, np.int64)
    for j in range(MAX_PRODUCTS):
        has = o["lines"][orders] > j
        out[has, j] = lines["product"][start[orders[has]] + j]
    return out


def _session_table(person, end, stage, k, products, order, logged, anon_start, device):
    return Columns(
        person=person.astype(np.int64),
        end=end,
        stage=stage.astype(np.int8),
        k=k.astype(np.int8),
        products=products,
        order=order.astype(np.int64),
        logged=logged,
        anon_start=anon_start,
        device=device.astype(np.int8),
    )


def funnel_sessions(
    rng: np.random.Generator,
    o: Columns,
    lines: Columns,
    channel: int,
    funnel: Funnel,
    account_created: np.ndarray,
) -> Columns:
    """The sessions behind the orders of one channel (web or app).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    o : Columns
        Orders (of people) with ``lines``.
    lines : Columns
        Their lines.
    channel : int
        Channel code of the orders to follow.
    funnel : behaviours.Funnel
        Step rates of the channel.
    account_created : numpy.ndarray
        Per person, when their account of this channel was created (NaN when none).

    Returns
    -------
    Columns
        One row per session: ``person``, ``end`` (time of the last event), ``stage``, ``k``
        (products), ``products``, ``order`` (-1 unless it buys), ``logged``,
        ``anon_start`` and ``device``.
    """
    orders = np.flatnonzero((o["person"] >= 0) & (o["channel"] == channel))
    k = np.minimum(o["lines"][orders], MAX_PRODUCTS)
    products = _products(o, lines, orders)
    p1, p2 = funnel.cart_to_checkout, funnel.checkout_to_purchase
    rates = {
        CART: (1 - p1) / (p1 * p2),
        CHECKOUT: (1 - p2) / p2,
        BROWSE: funnel.browse_sessions_per_order,
    }
    n = len(orders)
    parts = [
        _session_table(
            o["person"][orders],
            o["t"][orders],
            np.full(n, BUY),
            k,
            products,
            orders,
            np.ones(n, bool),
            rng.random(n) < funnel.anonymous_start_prob,
            (rng.random(n) < 0.25).astype(np.int8) if channel == 1 else np.full(n, 2),
        )
    ]
    for stage, rate in rates.items():
        reps = rng.poisson(rate, n)
        src = np.repeat(np.arange(n), reps)
        m = len(src)
        before = 0.05 + 6.95 * rng.random(m) if stage != BROWSE else 0.2 + 19.8 * rng.random(m)
        end = o["t"][orders[src]] - before
        person = o["person"][orders[src]]
        logged = (rng.random(m) >= funnel.anonymous_abandon_prob) & (
            end > np.nan_to_num(account_created[person], nan=np.inf)
        )
        anon_start = logged & (stage != BROWSE) & (rng.random(m) < funnel.anonymous_start_prob)
        kk = 1 + (rng.random(m) * k[src]).astype(np.int64)
        parts.append(
            _session_table(
                person,
                end,
                np.full(m, stage),
                kk,
                products[src],
                np.full(m, -1),
                logged,
                anon_start,
                (rng.random(m) < 0.25).astype(np.int8) if channel == 1 else np.full(m, 2),
            )
        )
    s = Columns.concat(parts)
    return s.take(s["end"] > 0.001)


def research_sessions(
    rng: np.random.Generator,
    o: Columns,
    lines: Columns,
    who: np.ndarray,
    account_created: np.ndarray,
    prob: float = 0.4,
) -> Columns:
    """Web sessions looking at products a few days before buying them in store.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    o : Columns
        Orders.
    lines : Columns
        Their lines.
    who : numpy.ndarray
        Per person, true for those who research online.
    account_created : numpy.ndarray
        Per person, when their web account was created.
    prob : float
        Probability of a research session before each store order.

    Returns
    -------
    Columns
        Browse sessions, as ``funnel_sessions`` returns.
    """
    person = o["person"]
    cand = np.flatnonzero((person >= 0) & (o["channel"] == 0) & who[np.maximum(person, 0)])
    cand = cand[rng.random(len(cand)) < prob]
    end = o["t"][cand] - (0.2 + 4.8 * rng.random(len(cand)))
    keep = end > account_created[person[cand]]
    cand, end = cand[keep], end[keep]
    m = len(cand)
    k = np.minimum(o["lines"][cand], MAX_PRODUCTS)
    return _session_table(
        person[cand],
        end,
        np.full(m, BROWSE),
        k,
        _products(o, lines, cand),
        np.full(m, -1),
        rng.random(m) < 0.6,
        np.zeros(m, bool),
        (rng.random(m) < 0.25).astype(np.int8),
    )


def loyalty_card_sessions(
    rng: np.random.Generator, o: Columns, account_created: np.ndarray, prob: float = 0.6
) -> Columns:
    """App sessions opening the loyalty card at the till, just before a store purchase."""
    person = o["person"]
    has = np.nan_to_num(account_created, nan=np.inf)
    cand = np.flatnonzero((person >= 0) & (o["channel"] == 0))
    cand = cand[(o["t"][cand] > has[person[cand]]) & (rng.random(len(cand)) < prob)]
    m = len(cand)
    return _session_table(
        person[cand],
        o["t"][cand] - 120 * SECOND,
        np.full(m, LOYALTY_CARD),
        np.zeros(m),
        np.full((m, MAX_PRODUCTS), -1),
        np.full(m, -1),
        np.ones(m, bool),
        np.zeros(m, bool),
        np.full(m, 2),
    )


def prospect_sessions(rng: np.random.Generator, count: int, days: float, cat: Catalogue) -> Columns:
    """Anonymous visitors who look at a few products and never identify."""
    k = rng.integers(1, MAX_PRODUCTS + 1, count)
    products = rng.integers(0, len(cat.products), (count, MAX_PRODUCTS))
    end = rng.random(count) * days
    return _session_table(
        np.full(count, -1),
        end,
        np.full(count, BROWSE),
        k,
        products,
        np.full(count, -1),
        np.zeros(count, bool),
        np.zeros(count, bool),
        np.zeros(count),
    )


def session_events(rng: np.random.Generator, s: Columns) -> Columns:
    """The events of each session, in time order within the session.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    s : Columns
        Sessions.

    Returns
    -------
    Columns
        ``session`` (position in ``s``), ``t``, ``type`` (into ``EVENT_NAMES``), ``product``
        (-1 when none), ``identified`` (the user id is known at this event).
    """
    k = s["k"].astype(np.int64)
    stage = s["stage"]
    ident = s["logged"] & s["anon_start"]
    loyalty = stage == LOYALTY_CARD
    m = np.where(
        loyalty, 1, 1 + k + ident + (stage >= CART) * k + (stage >= CHECKOUT) + (stage == BUY)
    )
    sess = np.repeat(np.arange(s.rows), m)
    pos = _rank(sess)
    kk, ii = k[sess], ident[sess]
    q = pos - (1 + kk + ii)
    kind = np.select(
        [pos == 0, pos <= kk, ii & (pos == kk + 1), q < kk, q == kk],
        [PAGE_VIEW, PRODUCT_VIEW, IDENTIFY, ADD_TO_CART, CHECKOUT_START],
        PURCHASE,
    ).astype(np.int8)
    j = np.where(kind == PRODUCT_VIEW, pos - 1, np.where(kind == ADD_TO_CART, q, 0))
    product = np.where(
        (kind == PRODUCT_VIEW) | (kind == ADD_TO_CART),
        s["products"][sess, np.clip(j, 0, MAX_PRODUCTS - 1)],
        -1,
    )
    gaps = rng.gamma(2.0, 20.0, len(sess)) * SECOND
    gaps[pos == 0] = 0.0
    cs = np.cumsum(gaps)
    last = np.cumsum(m) - 1
    t = s["end"][sess] - (cs[last][sess] - cs)
    identified = s["logged"][sess] & (~s["anon_start"][sess] | (pos > kk))
    return Columns(
        session=sess, t=np.maximum(t, 0.0), type=kind, product=product, identified=identified
    )


def render_events(
    ev: Columns,
    s: Columns,
    channel: str,
    users: pa.Array,
    order_users: pa.Array,
    order_ids: pa.Array,
    order_totals: np.ndarray,
    cookies: pa.Array,
    session_ids: pa.Array,
    event_ids: pa.Array,
    cat: Catalogue,
    origin,
) -> Columns:
    """The fields of each event as JSON values, ready for the Segment-like writer.

    Ids are given as rendered JSON values (``"abc"`` with its quotes, or ``null``), per
    person, order or session, so each event only looks them up.

    Parameters
    ----------
    ev : Columns
        Events from ``session_events``.
    s : Columns
        Their sessions.
    channel : str
        ``web`` or ``app``.
    users : pyarrow.Array
        Per person, their user id on this channel (JSON value).
    order_users : pyarrow.Array
        Per order, the user id of the account that placed it (JSON value).
    order_ids : pyarrow.Array
        Per order, its id (text).
    order_totals : numpy.ndarray
        Per order, its total in cents.
    cookies, session_ids : pyarrow.Array
        Per session, the anonymous id of its device and its id (JSON values).
    event_ids : pyarrow.Array
        Per event, its id (text).
    cat : Catalogue
        The products.
    origin : datetime.date
        Day 0 of the times.

    Returns
    -------
    Columns
        ``event_id``, ``timestamp`` and ``event`` as text; ``user_id``, ``anonymous_id``,
        ``session_id``, ``url``, ``sku`` and ``properties`` as JSON values.
    """
    n = ev.rows
    take = pa.array
    sess = ev["session"]
    order = s["order"][sess]
    person = s["person"][sess]
    kind = ev["type"]
    product = ev["product"]
    has_product = product >= 0
    loyalty = s["stage"][sess] == LOYALTY_CARD

    user = users.take(take(np.maximum(person, 0)))
    user = pc.if_else(take(order >= 0), order_users.take(take(np.maximum(order, 0))), user)
    user = pc.if_else(take(ev["identified"] & (person >= 0)), user, "null")

    products = len(cat.products)
    sku = pa.concat_arrays([formats.quoted(cat.sku), pa.array(["null"])])
    sku = sku.take(take(np.where(has_product, product, products)))
    home, product_page, login, checkout, done = PAGES[channel]
    pages = pa.concat_arrays(
        [
            formats.quoted(pa.array([home, login, checkout, done, LOYALTY_PAGE])),
            formats.quoted(formats.join(product_page, cat.sku)),
        ]
    )
    page = np.select(
        [has_product, loyalty, kind == IDENTIFY, kind == CHECKOUT_START, kind == PURCHASE],
        [5 + np.maximum(product, 0), 4, 1, 2, 3],
        0,
    )
    url = pages.take(take(page))

    parts: list[pa.Array] = []
    where: list[np.ndarray] = []
    codes = pa.array([c.code for c in CATEGORIES])
    for code in range(len(EVENT_NAMES)):
        idx = np.flatnonzero(kind == code)
        if not len(idx):
            continue
        prod = np.maximum(product[idx], 0)
        if code == PAGE_VIEW:
            text = pc.if_else(take(loyalty[idx]), '{"page":"loyalty_card"}', '{"page":"home"}')
        elif code == PRODUCT_VIEW:
            text = formats.json_objects(
                [
                    ("category", codes.take(take(cat.category[prod].astype(np.int64))), "str"),
                    ("price", formats.money(cat.price_cents[prod])),
                ]
            )
        elif code == IDENTIFY:
            text = pc.if_else(
                take(sess[idx] % 3 == 0), '{"method":"google"}', '{"method":"password"}'
            )
        elif code == ADD_TO_CART:
            text = formats.json_objects(
                [("quantity", "1"), ("price", formats.money(cat.price_cents[prod]))]
            )
        elif code == CHECKOUT_START:
            text = formats.json_objects([("items", formats.integers(s["k"][sess[idx]]))])
        else:
            o = order[idx]
            text = formats.json_objects(
                [
                    ("order_id", order_ids.take(take(o)), "str"),
                    ("revenue", formats.money(order_totals[o])),
                    ("currency", '"EUR"'),
                ]
            )
        parts.append(text)
        where.append(idx)
    inverse = np.empty(n, np.int64)
    inverse[np.concatenate(where)] = np.arange(n)
    props = pa.concat_arrays(parts).take(take(inverse))
    names = pa.array(EVENT_NAMES).take(take(kind.astype(np.int64)))
    return Columns(
        event_id=event_ids,
        timestamp=formats.timestamps(ev["t"], origin),
        event=names,
        user_id=user,
        anonymous_id=cookies.take(take(sess)),
        session_id=session_ids.take(take(sess)),
        url=url,
        sku=sku,
        properties=props,
    )
