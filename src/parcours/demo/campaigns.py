"""A past win-back programme with a control group and a planted uplift.

Every four weeks from the fifth month of the history on, the web shop drew its lapsing online
customers (silent beyond twice their median gap between purchases, at least 60 days, at
most a year, and not drawn in the last 90 days) and held 10% of them out. The demo's purchases
are left exactly as drawn; the holdout is drawn among those who bought again within 30 days
and those who did not in the proportions that make the treated reactivate ``uplift`` (8
points) more than the held out, as a campaign with that effect would show.

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
from parcours.demo.people import hex_ids
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
    rng: np.random.Generator, o: Columns, cal: Calendar, spec: WinbackHistory = WINBACK
) -> Columns:
    """Draw the programme's waves and their groups.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source (used for nothing else, so the rest of the demo is as without it).
    o : Columns
        Orders of people, sorted by person and time (``status`` 0 is completed).
    cal : Calendar
        The history.

    Returns
    -------
    Columns
        ``person``, ``t``, ``wave``, ``group`` (0 treated, 1 holdout) and ``converted`` (a
        purchase within ``measure_days``) of each draw.
    """
    done = o["status"] == 0
    person, t = o["person"][done], o["t"][done]
    n = int(person.max()) + 1 if len(person) else 0
    online = np.isin(o["channel"][done], (WEB, APP))
    gap = np.diff(t, prepend=np.nan)
    gap[np.r_[True, person[1:] != person[:-1]]] = np.nan
    last_drawn = np.full(n, -np.inf)
    sends = []
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
        bought = np.zeros(n, bool)
        bought[person[(t > when) & (t <= when + spec.measure_days)]] = True
        sends.append(
            Columns(
                person=drawn,
                t=np.full(len(drawn), when),
                wave=np.full(len(drawn), wave, np.int16),
                group=_holdout(rng, bought[drawn], spec).astype(np.int8),
                converted=bought[drawn],
            )
        )
    return Columns.concat(sends)


def _holdout(rng: np.random.Generator, converted: np.ndarray, spec: WinbackHistory) -> np.ndarray:
    """A holdout of ``holdout_share`` whose conversion is ``uplift`` below the treated's.

    With a share ``s`` held out and a conversion ``c`` overall, the held out convert at
    ``x = c - (1 - s) * uplift`` and the treated at ``x + uplift``.
    """
    size = len(converted)
    held = np.zeros(size, bool)
    if not size:
        return held
    k = round(spec.holdout_share * size)
    x = max(converted.mean() - (1 - spec.holdout_share) * spec.uplift, 0.0)
    yes, no = np.flatnonzero(converted), np.flatnonzero(~converted)
    k_yes = min(round(k * x), len(yes))
    k_no = min(k - k_yes, len(no))
    held[rng.choice(yes, k_yes, replace=False)] = True
    held[rng.choice(no, k_no, replace=False)] = True
    return held


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
    out = asdict(WINBACK)
    for name in GROUPS:
        n = sums.get(f"winback_{name}_n", 0.0)
        out[f"{name}_n"] = int(n)
        out[f"{name}_conversion"] = (
            round(sums.get(f"winback_{name}_converted", 0.0) / n, 6) if n else None
        )
    return out
