"""The e-mail programme: weekly campaigns, and the sends, opens and clicks of each contact.

Only contacts opted in to e-mail receive campaigns, between their opt-in and their opt-out.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from parcours.demo.behaviours import EMAILS
from parcours.demo.columns import Columns
from parcours.demo.seasons import Calendar

ACTIONS = ("sent", "open", "click")
_FESTIVE_NAMES = {
    "christmas": "Noël {y} : foie gras, chocolats et coffrets",
    "easter": "Pâques {y} : nos chocolats",
    "mothers_day": "Fête des mères {y} : idées cadeaux",
}
_PROMO_NAMES = {
    "garden_days": "Printemps du jardin {y}",
    "anniversary": "Anniversaire Jardin Gourmand {y}",
    "black_friday": "Black Friday {y}",
}


def campaigns(cal: Calendar) -> Columns:
    """The weekly campaigns of the history (Thursdays, 10:00 UTC), named for their season.

    Parameters
    ----------
    cal : Calendar
        The history.

    Returns
    -------
    Columns
        ``t``, ``campaign_id``, ``name`` and ``festive`` of each campaign.
    """
    first = (3 - cal.start.weekday()) % 7
    days = np.arange(first, cal.days, EMAILS.every_days)
    t = days + 10 / 24
    festive = cal.window_of(cal.festive, t)
    promo = cal.window_of(cal.promo, t)
    ids, labels = [], []
    for d, f, pr in zip(days, festive, promo, strict=True):
        day = cal.start + timedelta(days=int(d))
        ids.append(f"CMP{day:%Y%m%d}")
        y = day.year
        if f >= 0:
            labels.append(_FESTIVE_NAMES[cal.festive[f].kind].format(y=y))
        elif pr >= 0:
            w = cal.promo[pr]
            if w.kind == "sales":
                season = "hiver" if w.start.month == 1 else "été"
                labels.append(f"Soldes d'{season} {y}")
            else:
                labels.append(_PROMO_NAMES[w.kind].format(y=y))
        else:
            labels.append(f"Newsletter semaine {day.isocalendar().week} {y}")
    return Columns(t=t, campaign_id=np.array(ids), name=np.array(labels), festive=festive >= 0)


def email_activity(
    rng: np.random.Generator, contacts: Columns, camps: Columns, days: float
) -> Columns:
    """Sends, opens and clicks of each contact.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    contacts : Columns
        ``subscribed`` and ``unsubscribed`` times (NaN: never) and ``festive`` (the person is
        a festive customer, who opens festive campaigns more).
    camps : Columns
        The campaigns.
    days : float
        Length of the history.

    Returns
    -------
    Columns
        ``contact`` (position in ``contacts``), ``campaign``, ``action`` (into ``ACTIONS``)
        and ``t``, sorted by time.
    """
    sub = contacts["subscribed"]
    unsub = np.nan_to_num(contacts["unsubscribed"], nan=np.inf)
    t = camps["t"]
    first = np.searchsorted(t, sub, side="right")
    last = np.searchsorted(t, np.minimum(unsub, days), side="left")
    eligible = np.maximum(last - first, 0)
    owner = np.repeat(np.arange(contacts.rows), eligible)
    campaign = np.repeat(first, eligible) + _offsets(eligible)
    sent = rng.random(len(owner)) < EMAILS.target_prob
    owner, campaign = owner[sent], campaign[sent]
    send_t = t[campaign] + rng.random(len(owner)) * (2 / 24)
    in_time = send_t < unsub[owner]  # a campaign goes out over two hours
    owner, campaign, send_t = owner[in_time], campaign[in_time], send_t[in_time]
    p_open = np.where(
        contacts["festive"][owner] & camps["festive"][campaign],
        EMAILS.open_prob_festive,
        EMAILS.open_prob,
    )
    opened = rng.random(len(owner)) < p_open
    open_t = send_t + rng.exponential(0.5, len(owner))
    opened &= open_t < np.minimum(unsub[owner], days)
    clicked = opened & (rng.random(len(owner)) < EMAILS.click_prob)
    click_t = open_t + rng.random(len(owner)) * (10 / 1440)
    clicked &= click_t < days
    out = Columns(
        contact=np.concatenate([owner, owner[opened], owner[clicked]]),
        campaign=np.concatenate([campaign, campaign[opened], campaign[clicked]]),
        action=np.concatenate(
            [np.zeros(len(owner)), np.ones(opened.sum()), np.full(clicked.sum(), 2)]
        ).astype(np.int8),
        t=np.floor(np.concatenate([send_t, open_t[opened], click_t[clicked]]) * 86400) / 86400,
    )
    return out.take(np.argsort(out["t"], kind="stable"))


def _offsets(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., c-1 for each count c, concatenated."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)
