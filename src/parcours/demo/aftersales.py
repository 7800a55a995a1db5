"""What happens after an order: delivery, support tickets, satisfaction surveys.

The moment of truth is planted here: after a late delivery or an unresolved ticket, a
customer stops buying with ``MOMENT_OF_TRUTH.churn_prob``.
"""

from __future__ import annotations

import numpy as np

from parcours.demo.behaviours import (
    DELIVERY,
    MOMENT_OF_TRUTH,
    ORDER_CHANNELS,
    SUPPORT,
    SURVEY,
)
from parcours.demo.columns import Columns
from parcours.demo.purchases import APP, WEB

TICKET_VIA = ("phone", "email", "web")
TICKET_TOPICS = ("delivery_delay", "order_question", "product_return", "product_question")


def make_aftersales(rng: np.random.Generator, o: Columns, days: float) -> None:
    """Deliveries of web and app orders, and support tickets; adds columns to ``o``.

    Added columns: ``delivered`` (delivered within the history), ``promised`` and
    ``actual`` (days), ``late``, ``delivered_t``, ``ticket``, ``opened_t``, ``closed_t``,
    ``resolved``, ``via`` and ``topic``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    o : Columns
        Orders with ``t``, ``channel``, ``pickup`` and ``status``.
    days : float
        Length of the history; nothing happens after it.
    """
    n = o.rows
    t = o["t"]
    online = (o["channel"] == WEB) | (o["channel"] == APP)
    shipped = online & ~o["pickup"] & (o["status"] != 1)
    promised = np.array(DELIVERY.promised_days)[
        rng.choice(len(DELIVERY.promised_days), n, p=np.array(DELIVERY.promised_probs))
    ]
    late = rng.random(n) < DELIVERY.late_prob
    lo, hi = DELIVERY.late_days
    early = ~late & (rng.random(n) < DELIVERY.early_prob)
    actual = np.maximum(promised + late * rng.integers(lo, hi + 1, n) - early, 1)
    delivered_t = np.floor(t) + actual + (10 + 8 * rng.random(n)) / 24
    delivered_t = np.floor(delivered_t * 86400) / 86400
    delivered = shipped & (delivered_t < days)
    o["delivered"] = delivered
    o["promised"] = promised.astype(np.int8)
    o["actual"] = actual.astype(np.int8)
    o["late"] = delivered & late
    o["delivered_t"] = np.where(delivered, delivered_t, np.nan)

    base = np.array([SUPPORT.ticket_prob[c] for c in ORDER_CHANNELS])[o["channel"]]
    was_late = o["late"]
    ticket = rng.random(n) < np.where(was_late, SUPPORT.ticket_prob_late, base)
    opened = np.where(
        was_late, np.floor(t) + promised + 0.3 + 1.7 * rng.random(n), t + 1 + 19 * rng.random(n)
    )
    opened = np.floor(opened * 86400) / 86400
    closed = np.floor((opened + 0.05 + 3.95 * rng.random(n)) * 86400) / 86400
    ticket &= closed < days
    resolved = rng.random(n) < np.where(was_late, SUPPORT.resolved_prob_late, SUPPORT.resolved_prob)
    o["ticket"] = ticket
    o["opened_t"] = np.where(ticket, opened, np.nan)
    o["closed_t"] = np.where(ticket, closed, np.nan)
    o["resolved"] = ticket & resolved
    o["via"] = rng.choice(len(TICKET_VIA), n, p=[0.4, 0.4, 0.2]).astype(np.int8)
    store_topic = np.where(rng.random(n) < 0.5, 2, 3)
    online_topic = np.where(rng.random(n) < 0.6, 1, 2)
    o["topic"] = np.where(was_late, 0, np.where(online, online_topic, store_topic)).astype(np.int8)


def apply_moment_of_truth(rng: np.random.Generator, o: Columns, p: Columns) -> np.ndarray:
    """Plant the moment of truth; returns the mask of orders that remain.

    A person's first bad experience is their first late delivery or unresolved ticket
    (at delivery or closing time). With ``MOMENT_OF_TRUTH.churn_prob`` they stop buying
    then: their later orders are removed. Sets ``bad_t`` and ``churn_t`` on ``p`` (NaN when
    none).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    o : Columns
        Orders with after-sales columns.
    p : Columns
        The people.

    Returns
    -------
    numpy.ndarray
        Boolean mask over ``o``.
    """
    bad = np.fmin(
        np.where(o["late"], o["delivered_t"], np.nan),
        np.where(o["ticket"] & ~o["resolved"], o["closed_t"], np.nan),
    )
    first_bad = np.full(p.rows, np.inf)
    has = ~np.isnan(bad)
    np.minimum.at(first_bad, o["person"][has], bad[has])
    churn = np.isfinite(first_bad) & (rng.random(p.rows) < MOMENT_OF_TRUTH.churn_prob)
    p["bad_t"] = np.where(np.isfinite(first_bad), first_bad, np.nan)
    p["churn_t"] = np.where(churn, first_bad, np.nan)
    return ~(churn[o["person"]] & (o["t"] > first_bad[o["person"]]))


def repurchase_counts(o: Columns, days: float) -> dict[str, int]:
    """Realised repurchase within the horizon after a good or bad experience.

    Counts deliveries (late or on time) and tickets (resolved or not) that end at least
    ``horizon_days`` before the end of the history, and how many of them are followed by an
    order of the same person within ``horizon_days``.

    Parameters
    ----------
    o : Columns
        The remaining orders of people, sorted by person and time.
    days : float
        Length of the history.

    Returns
    -------
    dict
        ``{case}_n`` and ``{case}_repurchased`` for late, on_time, unresolved, resolved.
    """
    h = MOMENT_OF_TRUTH.horizon_days
    scale = 1e5
    key = o["person"] * scale + o["t"]

    def followed(person: np.ndarray, when: np.ndarray) -> np.ndarray:
        i = np.searchsorted(key, person * scale + when, side="right")
        ok = i < len(key)
        i = np.minimum(i, len(key) - 1)
        return ok & (o["person"][i] == person) & (o["t"][i] <= when + h)

    out: dict[str, int] = {}
    end = o["delivered_t"]
    done = o["delivered"] & (end + h < days)
    cases = (("late", done & o["late"], end), ("on_time", done & ~o["late"], end))
    closed = o["closed_t"]
    shut = o["ticket"] & (closed + h < days)
    cases += (
        ("unresolved", shut & ~o["resolved"], closed),
        ("resolved", shut & o["resolved"], closed),
    )
    for name, mask, when in cases:
        idx = np.flatnonzero(mask)
        out[f"{name}_n"] = len(idx)
        out[f"{name}_repurchased"] = (
            int(followed(o["person"][idx], when[idx]).sum()) if len(idx) else 0
        )
    return out


def make_surveys(rng: np.random.Generator, o: Columns, days: float) -> Columns:
    """Satisfaction survey answers after deliveries; lower scores after a late one.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    o : Columns
        Orders with after-sales columns.
    days : float
        Length of the history.

    Returns
    -------
    Columns
        ``order`` (position in ``o``), ``t`` and ``score`` (1-5) of each answer.
    """
    idx = np.flatnonzero(o["delivered"])
    k = len(idx)
    t = o["delivered_t"][idx] + 1 + 4 * rng.random(k)
    t = np.floor(t * 86400) / 86400
    answer = (rng.random(k) < SURVEY.response_prob) & (t < days)
    late = o["late"][idx]
    score = (
        np.where(
            late,
            rng.choice(5, k, p=np.array(SURVEY.score_probs_late)),
            rng.choice(5, k, p=np.array(SURVEY.score_probs_on_time)),
        )
        + 1
    )
    return Columns(order=idx[answer], t=t[answer], score=score[answer].astype(np.int8))
