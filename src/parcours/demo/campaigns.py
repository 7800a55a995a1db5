"""A past win-back programme with a control group and a planted effect.

Every four weeks from the fifth month of the history on, the web shop drew its lapsing online
customers (silent beyond twice their median gap between purchases, at least 60 days, at
most a year, and not drawn in the last 90 days), held out 10% at random and sent the others
a win-back. A send adds ``uplift`` to the 30-day reactivation: among the treated who would
not have bought again within 30 days, exactly ``round(uplift x treated)`` of those able to
respond are given an order within the 30 days. Planted lapsing, festive, tourist, promo
hunting and multichannel customers (whose channel mix is planted) and those who left after a
bad experience never respond: their truth holds.

Each send and each held-out person is an ordinary ``campaign_send`` event of the web shop
whose properties name the ``plan`` and the ``group``, as a retailer's own past campaigns
would load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

import numpy as np
import pyarrow as pa

from parcours.demo import formats
from parcours.demo.columns import Columns
from parcours.demo.people import BEHAVIOUR_NAMES, hex_ids
from parcours.demo.purchases import APP, WEB
from parcours.demo.seasons import Calendar
from parcours.demo.sources import segment_objects

GROUPS = ("treated", "holdout")


@dataclass(frozen=True)
class WinbackHistory:
    """The planted win-back programme."""

    plan: str = "winback"
    every_days: int = 28
    first_days_before_end: int = 900
    last_days_before_end: int = 45
    factor: float = 2.0
    min_days: float = 60.0
    max_days: float = 365.0
    cooldown_days: float = 90.0
    holdout_share: float = 0.10
    measure_days: float = 30.0
    uplift: float = 0.08
    never_respond: tuple[str, ...] = (
        "lapsing",
        "festive",
        "tourist",
        "promo_hunter",
        "multichannel",
    )


WINBACK = WinbackHistory()


def wave_times(cal: Calendar, spec: WinbackHistory = WINBACK) -> np.ndarray:
    """Send times of the waves: Tuesdays at 10:00 UTC, every ``every_days``."""
    start = max(cal.days - spec.first_days_before_end, 0)
    first = start + (1 - (cal.start + timedelta(days=start)).weekday()) % 7
    days = np.arange(first, cal.days - spec.last_days_before_end, spec.every_days)
    return days + 10 / 24


def _group_median(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` per group 0..n-1 (NaN for an empty group)."""
    order = np.lexsort((values, group))
    v = values[order]
    counts = np.bincount(group, minlength=n)
    starts = np.cumsum(counts) - counts
    lo = np.minimum(starts + (counts - 1) // 2, max(len(v) - 1, 0))
    hi = np.minimum(starts + counts // 2, max(len(v) - 1, 0))
    med = (v[lo] + v[hi]) / 2 if len(v) else np.zeros(n)
    return np.where(counts > 0, med, np.nan)


def plant_winback(
    rng: np.random.Generator, o: Columns, p: Columns, cal: Calendar, spec: WinbackHistory = WINBACK
) -> tuple[Columns, Columns]:
    """Draw the programme's waves and add the orders its sends cause.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    o : Columns
        Orders of people, sorted by person and time (``status`` 0 is completed).
    p : Columns
        The people.
    cal : Calendar
        The history.

    Returns
    -------
    orders : Columns
        ``o`` with the caused orders, sorted by person and time, ranks renumbered.
    sends : Columns
        ``person``, ``t``, ``wave`` and ``group`` (0 treated, 1 holdout) of each draw, with
        ``converted`` (a purchase within ``measure_days``, caused ones included).
    """
    n = p.rows
    done = o["status"] == 0
    person, t = o["person"][done], o["t"][done]
    online = np.isin(o["channel"][done], (WEB, APP))
    gap = np.diff(t, prepend=np.nan)
    gap[np.r_[True, person[1:] != person[:-1]]] = np.nan
    mute = np.isin(p["behaviour"], [BEHAVIOUR_NAMES.index(b) for b in spec.never_respond])
    mute |= np.isfinite(p["churn_t"])
    last_drawn = np.full(n, -np.inf)
    sends, added = [], []
    for wave, when in enumerate(wave_times(cal, spec)):
        before = t < when
        last_t = np.full(n, -np.inf)
        np.maximum.at(last_t, person[before], t[before])
        last_online = np.zeros(n, bool)
        is_last = before & (t == last_t[person])
        last_online[person[is_last & online]] = True
        has_gap = before & np.isfinite(gap)
        usual = _group_median(person[has_gap], gap[has_gap], n)
        silence = when - last_t
        limit = np.maximum(spec.factor * np.nan_to_num(usual, nan=90.0), spec.min_days)
        drawn = np.flatnonzero(
            last_online
            & (silence > limit)
            & (silence <= spec.max_days)
            & (when - last_drawn >= spec.cooldown_days)
        )
        last_drawn[drawn] = when
        held = rng.random(len(drawn)) < spec.holdout_share
        after = (t > when) & (t <= when + spec.measure_days)
        bought = np.zeros(n, bool)
        bought[person[after]] = True
        treated = drawn[~held]
        can = treated[~bought[treated] & ~mute[treated]]
        k = min(round(spec.uplift * len(treated)), len(can))
        caused = rng.choice(can, k, replace=False) if k else np.zeros(0, np.int64)
        added.append((caused, when + 0.5 + rng.random(k) * (spec.measure_days - 1)))
        converted = bought[drawn]
        converted[np.isin(drawn, caused)] = True
        sends.append(
            Columns(
                person=drawn,
                t=np.full(len(drawn), when),
                wave=np.full(len(drawn), wave, np.int16),
                group=held.astype(np.int8),
                converted=converted,
            )
        )
    send_cols = Columns.concat(sends)
    who = np.concatenate([a[0] for a in added]).astype(np.int64)
    when = np.concatenate([a[1] for a in added])
    return _with_orders(o, who, when, cal), send_cols


def _with_orders(o: Columns, who: np.ndarray, when: np.ndarray, cal: Calendar) -> Columns:
    """``o`` plus one completed web order per (person, time), a copy of their last web one."""
    if not len(who):
        return o
    idx = np.arange(o.rows)
    web = (o["channel"] == WEB) | (o["channel"] == APP)
    key = o["person"] * 1e5 + o["t"]
    # The latest online order before the new one: the model of the new order.
    cand = idx[web]
    pos = np.searchsorted(key[cand], who * 1e5 + when, side="right") - 1
    model = cand[np.maximum(pos, 0)]
    new = o.take(model)
    shift = when - new["t"]
    new["t"] = when
    new["delivered_t"] = new["delivered_t"] + shift
    new["status"] = np.zeros(len(who), np.int8)
    new["promo"] = cal.window_of(cal.promo, when).astype(new["promo"].dtype)
    new["festive"] = cal.window_of(cal.festive, when).astype(new["festive"].dtype)
    new["rate"] = np.zeros(len(who))
    new["ticket"] = np.zeros(len(who), bool)
    new["resolved"] = np.zeros(len(who), bool)
    new["opened_t"] = np.full(len(who), np.nan)
    new["closed_t"] = np.full(len(who), np.nan)
    out = Columns.concat([o, new])
    out = out.take(np.lexsort((out["t"], out["person"])))
    first = np.r_[0, np.flatnonzero(out["person"][1:] != out["person"][:-1]) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, out.rows]))
    out["rank"] = (np.arange(out.rows) - starts).astype(out["rank"].dtype)
    return out


def write_sends(ctx, sends: Columns) -> None:
    """Append the ``campaign_send`` events of ``sends`` to the web shop's campaign log.

    Each person is named as the web shop knows them: the account of their last online order
    before the send.
    """
    orders = ctx.orders
    web = np.flatnonzero((orders["person"] >= 0) & np.isin(orders["channel"], (WEB, APP)))
    web = web[ctx.customer_id.take(pa.array(web)).is_valid().to_numpy(zero_copy_only=False)]
    key = orders["person"][web] * 1e5 + orders["t"][web]
    pos = np.searchsorted(key, sends["person"] * 1e5 + sends["t"], side="left") - 1
    account = web[np.maximum(pos, 0)]
    q = formats.quoted
    props = formats.json_objects(
        [
            ("plan", q(pa.array(np.full(sends.rows, WINBACK.plan)))),
            ("group", q(pa.array(np.array(GROUPS)[sends["group"]]))),
            ("campaign", q(pa.array([f"{WINBACK.plan}-{w:02d}" for w in sends["wave"]]))),
        ]
    )
    ev = {
        "event_id": hex_ids(ctx.totals.next_ids("campaign_event", sends.rows), 61),
        "timestamp": ctx.ts(sends["t"]),
        "event": "campaign_send",
        "user_id": q(ctx.customer_id.take(pa.array(account))),
        "anonymous_id": "null",
        "session_id": "null",
        "url": "null",
        "sku": "null",
        "properties": props,
    }
    ctx.files["web_campaigns"].write_jsonl(segment_objects(ev, "server"))
    ctx.totals.events += sends.rows
    for g, name in enumerate(GROUPS):
        mine = sends["group"] == g
        ctx.totals.add(f"winback_{name}_n", mine.sum())
        ctx.totals.add(f"winback_{name}_converted", sends["converted"][mine].sum())


def summary(sums: dict) -> dict:
    """The planted programme and its realised groups, for ``planted.json``."""
    out = {k: v for k, v in asdict(WINBACK).items() if k != "never_respond"}
    for name in GROUPS:
        n = sums.get(f"winback_{name}_n", 0.0)
        out[f"{name}_n"] = int(n)
        out[f"{name}_conversion"] = (
            round(sums.get(f"winback_{name}_converted", 0.0) / n, 6) if n else None
        )
    return out
