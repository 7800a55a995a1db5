"""Funnels: steps reached within a conversion window from the entry, attempt by attempt.

Rules (each with a worked example in ``docs/journeys.md``):

- A funnel's *unit* is a browsing session (``scope: session``) or a journey (``scope:
  customer``, steps in any channel).
- Events are taken in time order (whole seconds); events of one second in step order (then
  in timeline order), so that different events at one instant can fill consecutive steps.
  One event fills one step: ``A -> A`` needs two A events.
- Every step-1 event whose time is in the date range ``[start, end)`` starts an *attempt*
  (``counting: first_entry``: only the unit's first one). Step k of an attempt is an event
  after step k-1's (``loose``), or the unit's very next event (``strict``), no later than the
  window after the entry (bound included) and, when step k has a ``within``, no later than
  that after step k-1. An attempt reaches step k when *any* choice of its events satisfies
  these limits (no greedy earliest-event choice).
- ``ordering: any``: every event of any step in the range starts an attempt, which reaches k
  when k distinct steps happen within the window from it.
- An exclusion ``{step: X, between: [i, j]}`` voids the attempt's choices where X happens
  after step i and before step j (strictly, in time), or after step i within the window when
  step j is not reached. Voided choices are dropped; then each unit counts once, by its
  attempt that got furthest (the earliest of those). A unit with no clean attempt is counted
  nowhere.
- Conversions are followed to the end of the window even past ``end``, never past the as-of
  date: events after it are unknown.
- Times to convert (mean, median, p90) of step k are measured from step k-1 of the attempt
  counted.

The computation is a chain of grouped joins over the funnel's events only (one per step, no
window frame per step over every event): a first pass over distinct states (an attempt and
the event reached) finds each unit's furthest attempt; a second follows the events and times
of the attempts counted (of every attempt when there are exclusions).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import ibis

from parcours.config import FunnelConfig, duration_seconds
from parcours.schema import (
    CUSTOMER_KEY,
    JOURNEY_ID,
    OCCURRED_AT,
    SEQ,
    STAGE,
    TOUCHPOINT,
)

SPLITS = ("channel", "device", "period")
PROFILE_SPLITS = ("rfm_segment", "lifecycle_segment", "persona")
UNKNOWN = "unknown"
REACHED = "steps_reached"


@dataclass(frozen=True)
class FunnelStep:
    """One step: a touchpoint or a stage, optionally on some channels, and its ``within``."""

    name: str
    on: Literal["touchpoint", "stage"] = "touchpoint"
    channels: tuple[str, ...] = ()
    within_seconds: float | None = None

    def matches(self, t: ibis.Table) -> ibis.BooleanValue:
        """Which rows of a timeline are this step."""
        cond = t[STAGE if self.on == "stage" else TOUCHPOINT] == self.name
        if self.channels:
            cond &= t.channel.isin(self.channels)
        return cond.fill_null(False)


@dataclass(frozen=True)
class Exclusion:
    """An event that voids an attempt between steps ``i`` and ``j`` (numbered from 1)."""

    event: FunnelStep
    between: tuple[int, int]


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel ready to compute."""

    name: str
    steps: tuple[FunnelStep, ...]
    window_seconds: float = 14 * 86400
    scope: Literal["session", "customer"] = "customer"
    ordering: Literal["loose", "strict", "any"] = "loose"
    counting: Literal["best_attempt", "first_entry"] = "best_attempt"
    exclude: tuple[Exclusion, ...] = ()


def funnel_spec(name: str, config: FunnelConfig, stages: Sequence[str]) -> FunnelSpec:
    """A configured funnel as a ``FunnelSpec``; a step named like a stage matches the stage."""

    def step(name: str, channels: Sequence[str] = (), within: str | None = None) -> FunnelStep:
        on = "stage" if name in stages else "touchpoint"
        seconds = duration_seconds(within) if within else None
        return FunnelStep(name, on, tuple(channels), seconds)

    steps = tuple(
        step(s.step, s.channels, s.within or (config.within if k else None))
        for k, s in enumerate(config.steps)
    )
    exclude = tuple(Exclusion(step(x.step), tuple(x.between)) for x in config.exclude)
    return FunnelSpec(
        name,
        steps,
        duration_seconds(config.window),
        config.scope,
        config.ordering,
        config.counting,
        exclude,
    )


def check_steps(
    spec: FunnelSpec, touchpoints: Sequence[str], stages: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Notes on steps that never occur in the data (they count 0), warnings on likely typos.

    Parameters
    ----------
    spec
        The funnel.
    touchpoints, stages
        The touchpoints and stages found in the data.

    Returns
    -------
    tuple[list[str], list[str]]
        Notes (a step not in the data yet) and warnings (an unknown name close to a real one).
    """
    notes, warnings = [], []
    known = {"touchpoint": set(touchpoints), "stage": set(stages)}
    names = sorted(set(touchpoints) | set(stages))
    events = [("step", s) for s in spec.steps] + [("exclusion", x.event) for x in spec.exclude]
    for role, step in events:
        if step.name in known[step.on]:
            continue
        close = difflib.get_close_matches(step.name, names, n=1, cutoff=0.8)
        if close:
            warnings.append(
                f"funnel {spec.name}: {role} {step.name!r} never occurs in the data; "
                f"did you mean {close[0]!r}?"
            )
        else:
            what = "counts 0" if role == "step" else "voids nothing"
            notes.append(
                f"funnel {spec.name}: {role} {step.name!r} never occurs in the data yet: it {what}"
            )
    return notes, warnings


def _seconds(duration: float) -> ibis.Value:
    """A duration as whole seconds: times are whole seconds, so the bound is the same."""
    return ibis.literal(math.floor(duration), "int64")


def _unit(spec: FunnelSpec) -> list[str]:
    return [JOURNEY_ID, "session_id"] if spec.scope == "session" else [JOURNEY_ID]


def _cutoff(as_of: dt.date | dt.datetime | None) -> dt.datetime | None:
    """First instant not known at ``as_of`` (a date includes its whole day)."""
    if as_of is None or isinstance(as_of, dt.datetime):
        return as_of
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())


def _order_key(
    ts: ibis.IntegerValue, rank: ibis.IntegerValue, seq: ibis.IntegerValue, n: int
) -> ibis.Value:
    """Time, then step order, then timeline order, as one number (no sort needed).

    ``seq`` breaks ties of one second and one step rank (``A -> A`` at one instant); it is
    below 2**32 in a journey. A decimal, as times * ranks * 2**32 overflow an int64.
    """
    base = (ts * (n + 2) + rank).cast("decimal(38, 0)")
    return base * ibis.literal(2**32, "int64") + seq.cast("int64")


def _funnel_events(timeline: ibis.Table, spec: FunnelSpec, cutoff: dt.datetime | None):
    """The unit's events of any step or exclusion, each with its place in funnel order (``pos``).

    ``pos`` orders the events of a unit; in a strict funnel it numbers them consecutively
    (every event counts there), in the others it is a key computed row by row. Narrow on
    purpose: the other columns of an event are looked up by ``seq`` for the units counted.
    """
    n = len(spec.steps)
    t = timeline
    if cutoff is not None:
        t = t.filter(t[OCCURRED_AT] < ibis.timestamp(cutoff))
    if spec.scope == "session":
        t = t.filter(t.session_id.notnull())

    def flags(t: ibis.Table) -> dict[str, ibis.BooleanValue]:
        out = {f"m_{k}": s.matches(t) for k, s in enumerate(spec.steps, start=1)}
        return out | {f"x_{k}": x.event.matches(t) for k, x in enumerate(spec.exclude, start=1)}

    if spec.ordering != "strict":
        # Events of no step cannot change a loose or any-order funnel: drop them first.
        t = t.filter(ibis.or_(*flags(t).values()))
    f = flags(t)
    # Times are whole seconds; within a second, events are taken in step order (events of
    # no step last), then in timeline order.
    rank = ibis.cases(*[(f[f"m_{k}"], k) for k in range(1, n + 1)], else_=n + 1)
    unit = _unit(spec)
    u = t.select(
        *unit,
        OCCURRED_AT,
        ts=t[OCCURRED_AT].epoch_seconds().cast("int64"),
        rank=rank,
        seq_=t[SEQ],
        **f,
    )
    if spec.ordering != "strict":
        return u.mutate(pos=_order_key(u.ts, u["rank"], u.seq_, n))
    w = ibis.window(group_by=[u[c] for c in unit], order_by=[u.ts, u["rank"], u.seq_])
    u = u.mutate(pos=ibis.row_number().over(w))
    return u.filter(ibis.or_(*[u[c] for c in f]))


def _attempts(u: ibis.Table, spec: FunnelSpec, start, end, starts: ibis.BooleanValue):
    """Events that start an attempt: in ``[start, end)``, all or each unit's first."""
    a = u.filter(starts)
    if start is not None:
        a = a.filter(a[OCCURRED_AT] >= ibis.timestamp(start))
    if end is not None:
        a = a.filter(a[OCCURRED_AT] < ibis.timestamp(end))
    if spec.counting == "first_entry":
        r = ibis.row_number().over(group_by=[a[c] for c in _unit(spec)], order_by=a.pos)
        a = a.mutate(r_=r).filter(lambda x: x.r_ == 0).drop("r_")
    return a.select(
        *_unit(spec),
        seq_1=a.seq_,
        last_seq=a.seq_,
        pos_1=a.pos,
        ts_1=a.ts,
        **{REACHED: ibis.literal(1, "int64")},
    )


def _drop_voided(states: ibis.Table, u: ibis.Table, spec: FunnelSpec, k: int) -> ibis.Table:
    """Choices that reach step k with an exclusion event between step i and step k."""
    unit = _unit(spec)
    for no, x in enumerate(spec.exclude, start=1):
        i, j = x.between
        if j != k:
            continue
        ev = u.filter(u[f"x_{no}"]).select(**{f"e_{c}": u[c] for c in unit}, e_ts=u.ts)
        preds = [states[c] == ev[f"e_{c}"] for c in unit]
        preds += [ev.e_ts > states[f"ts_{i}"], ev.e_ts < states[f"ts_{k}"]]
        states = states.anti_join(ev, preds)
    return states


def _drop_open_voided(states: ibis.Table, u: ibis.Table, spec: FunnelSpec) -> ibis.Table:
    """Choices that stop between step i and j with an exclusion event after i in the window."""
    unit = _unit(spec)
    for no, x in enumerate(spec.exclude, start=1):
        i, j = x.between
        ev = u.filter(u[f"x_{no}"]).select(**{f"e_{c}": u[c] for c in unit}, e_ts=u.ts)
        preds = [states[c] == ev[f"e_{c}"] for c in unit]
        preds += [
            states[REACHED] >= i,
            states[REACHED] < j,
            ev.e_ts > states[f"ts_{i}"],
            ev.e_ts <= states.ts_1 + _seconds(spec.window_seconds),
        ]
        states = states.anti_join(ev, preds)
    return states


def _mergeable(spec: FunnelSpec, k: int) -> bool:
    """Whether a choice at step k is only worth its event (earliest best) for what follows."""
    n = len(spec.steps)
    if k < n and spec.steps[k].within_seconds is not None:
        return False
    return not any(x.between[0] <= k < x.between[1] for x in spec.exclude)


def _keep_one(states: ibis.Table, spec: FunnelSpec, k: int) -> ibis.Table:
    """One choice per attempt, the furthest, then the earliest events (ties resolve alike).

    Per attempt and step-k event instead when what follows depends on more than the event.
    """
    key = [*_unit(spec), "pos_1"]
    if not _mergeable(spec, k):
        straddling = [x.between[0] for x in spec.exclude if x.between[0] < k < x.between[1]]
        key += [f"pos_{k}", *[f"pos_{i}" for i in straddling]]
    s = states
    order = [ibis.desc(s[REACHED]), s[f"pos_{k}"], *[s[f"pos_{i}"] for i in range(2, k)]]
    r = ibis.row_number().over(group_by=[s[c] for c in dict.fromkeys(key)], order_by=order)
    return s.mutate(r_=r).filter(lambda x: x.r_ == 0).drop("r_")


def _ordered_states(u: ibis.Table, spec: FunnelSpec, attempts: ibis.Table) -> ibis.Table:
    """The kept choices of events of every attempt, each with the steps it reaches.

    A left join per step, so that a choice that goes no further stays with what it reached;
    one table flows from step to step (no union of the steps, which would recompute them).
    """
    n = len(spec.steps)
    unit = _unit(spec)
    cur = attempts
    for k in range(2, n + 1):
        step = spec.steps[k - 1]
        c = u.filter(u[f"m_{k}"]).select(
            **{f"c_{col}": u[col] for col in unit}, c_pos=u.pos, c_ts=u.ts, c_seq=u.seq_
        )
        prev_pos, prev_ts = cur[f"pos_{k - 1}"], cur[f"ts_{k - 1}"]
        preds = [cur[col] == c[f"c_{col}"] for col in unit]
        preds.append(c.c_pos == prev_pos + 1 if spec.ordering == "strict" else c.c_pos > prev_pos)
        # Bounds as `column <= column + constant`: an engine can then join on them (DuckDB
        # joins `a - b <= c` by a nested loop).
        preds.append(c.c_ts <= cur.ts_1 + _seconds(spec.window_seconds))
        if step.within_seconds is not None:
            preds.append(c.c_ts <= prev_ts + _seconds(step.within_seconds))
        j = cur.left_join(c, preds)
        cols = {col: j[col] for col in cur.columns if col not in ("last_seq", REACHED)}
        nxt = j.select(
            **cols,
            **{f"pos_{k}": j.c_pos, f"ts_{k}": j.c_ts},
            last_seq=j.c_seq.fill_null(j.last_seq),
            **{REACHED: j[REACHED] + j.c_pos.notnull().cast("int64")},
        )
        nxt = _drop_voided(nxt, u, spec, k)
        cur = _keep_one(nxt, spec, k)
    return cur


def _furthest_attempts(u: ibis.Table, spec: FunnelSpec, attempts: ibis.Table) -> ibis.Table:
    """Each unit's attempt that gets furthest (the earliest of those), without exclusions.

    Only reach matters here, not which events: a state is an attempt and the event it
    reached, so distinct states suffice and no choice is lost. The times of the attempts
    counted are then followed by ``_ordered_states`` on these attempts only.
    """
    unit = _unit(spec)

    def first(cur: ibis.Table, k: int) -> ibis.Table:
        """Per unit, its earliest attempt that reaches step k."""
        return cur.group_by(unit).aggregate(a_=cur.pos_1.min()).mutate(k_=ibis.literal(k, "int64"))

    cur = attempts.select(*unit, "pos_1", "ts_1", p_=attempts.pos_1, t_=attempts.ts_1)
    reached = [first(cur, 1)]
    for k in range(2, len(spec.steps) + 1):
        step = spec.steps[k - 1]
        c = u.filter(u[f"m_{k}"]).select(
            **{f"c_{col}": u[col] for col in unit}, c_pos=u.pos, c_ts=u.ts
        )
        preds = [cur[col] == c[f"c_{col}"] for col in unit]
        preds.append(c.c_pos == cur.p_ + 1 if spec.ordering == "strict" else c.c_pos > cur.p_)
        preds.append(c.c_ts <= cur.ts_1 + _seconds(spec.window_seconds))
        if step.within_seconds is not None:
            preds.append(c.c_ts <= cur.t_ + _seconds(step.within_seconds))
        j = cur.inner_join(c, preds)
        if _mergeable(spec, k):
            # Positions follow time: the earliest event is also the earliest time.
            cur = j.group_by([*unit, "pos_1", "ts_1"]).aggregate(p_=j.c_pos.min(), t_=j.c_ts.min())
        else:
            cur = j.select(*unit, "pos_1", "ts_1", p_=j.c_pos, t_=j.c_ts).distinct()
        reached.append(first(cur, k))
    # One small row per unit and step reached: the furthest step's earliest attempt.
    r = ibis.union(*reached)
    best = r.group_by(unit).aggregate(pos_1=r.a_.argmax(r.k_))
    return attempts.semi_join(best, [*unit, "pos_1"])


def _any_order_states(u: ibis.Table, spec: FunnelSpec, attempts: ibis.Table) -> ibis.Table:
    """Per attempt, the distinct steps that happen within the window from its event."""
    unit = _unit(spec)
    # Steps named alike are one kind of event: k such steps need k of its events.
    kinds: dict[FunnelStep, list[int]] = {}
    for k, s in enumerate(spec.steps, start=1):
        kinds.setdefault(s, []).append(k)
    c = u.select(
        **{f"c_{col}": u[col] for col in unit},
        c_ts=u.ts,
        **{f"c_m_{ks[0]}": u[f"m_{ks[0]}"].cast("int64") for ks in kinds.values()},
    )
    preds = [attempts[col] == c[f"c_{col}"] for col in unit]
    preds += [c.c_ts >= attempts.ts_1, c.c_ts <= attempts.ts_1 + _seconds(spec.window_seconds)]
    j = attempts.inner_join(c, preds)
    keep = [col for col in attempts.columns if col != REACHED]
    counts = j.group_by([j[col] for col in keep]).aggregate(
        **{f"n_{ks[0]}": j[f"c_m_{ks[0]}"].sum() for ks in kinds.values()}
    )
    got = sum(
        ibis.least(counts[f"n_{ks[0]}"], ibis.literal(len(ks), "int64")) for ks in kinds.values()
    )
    return counts.select(*keep, **{REACHED: got.cast("int64")})


def funnel_entries(
    timeline: ibis.Table,
    spec: FunnelSpec,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    as_of: dt.date | dt.datetime | None = None,
) -> ibis.Table:
    """One row per unit counted: its attempt that got furthest and the time of each step.

    Parameters
    ----------
    timeline
        ``journey_timeline`` (or the same columns).
    spec
        The funnel.
    start, end
        Attempts start in ``[start, end)``; open when None.
    as_of
        Events after this date (a datetime: from this instant) are ignored.

    Returns
    -------
    ibis.Table
        ``journey_id`` (and ``session_id`` in session scope), ``customer_key``, ``channel``,
        ``device`` and ``period`` (``YYYY-MM``) of the entry, ``entered_at``,
        ``steps_reached``, per step k ``ts_k`` (epoch seconds; null when not reached, and
        for steps in any order), ``page`` (url of the last step reached) and ``amount`` (of
        the last step, when every step is reached).
    """
    n = len(spec.steps)
    unit = _unit(spec)
    u = _funnel_events(timeline, spec, _cutoff(as_of))
    if spec.ordering == "any":
        attempts = _attempts(u, spec, start, end, ibis.or_(*[u[f"m_{k}"] for k in range(1, n + 1)]))
        states = _any_order_states(u, spec, attempts)
        times = {f"ts_{k}": ibis.null("int64") for k in range(2, n + 1)}
        states = states.mutate(**{f"pos_{k}": ibis.null("int64") for k in range(2, n + 1)}, **times)
    else:
        attempts = _attempts(u, spec, start, end, u.m_1)
        if not spec.exclude:
            attempts = _furthest_attempts(u, spec, attempts)
        states = _drop_open_voided(_ordered_states(u, spec, attempts), u, spec)
    if spec.ordering == "any" or spec.exclude:
        # Several attempts per unit are still there: keep the furthest, the earliest of those.
        order = [ibis.desc(states[REACHED])] + [states[f"pos_{k}"] for k in range(1, n + 1)]
        rank = ibis.row_number().over(group_by=[states[c] for c in unit], order_by=order)
        states = states.mutate(r_=rank).filter(lambda x: x.r_ == 0)
    best = states
    # What the tables say of the entry and of the last step, for the units counted only.
    entry = timeline.select(
        e_id=timeline[JOURNEY_ID],
        e_seq=timeline[SEQ],
        customer_key=timeline[CUSTOMER_KEY],
        channel=timeline.channel.fill_null(UNKNOWN),
        device=timeline.device.fill_null(UNKNOWN),
        entered_at=timeline[OCCURRED_AT],
    )
    last = timeline.select(
        l_id=timeline[JOURNEY_ID], l_seq=timeline[SEQ], page=timeline.url, l_amount=timeline.amount
    )
    j = best.inner_join(entry, [best[JOURNEY_ID] == entry.e_id, best.seq_1 == entry.e_seq])
    j = j.inner_join(last, [j[JOURNEY_ID] == last.l_id, j.last_seq == last.l_seq])
    return j.select(
        *unit,
        CUSTOMER_KEY,
        "channel",
        "device",
        period=j.entered_at.date().cast("string").substr(0, 7),
        entered_at=j.entered_at,
        **{REACHED: j[REACHED]},
        **{f"ts_{k}": j[f"ts_{k}"] for k in range(1, n + 1)},
        page=j.page,
        amount=ibis.ifelse(j[REACHED] == n, j.l_amount, ibis.null("float64")),
    )


def with_profile(entries: ibis.Table, profile: ibis.Table | None) -> ibis.Table:
    """Entries with the segment and persona columns of ``customer_profile`` (when it has them)."""
    cols = [c for c in PROFILE_SPLITS if profile is not None and c in profile.columns]
    if not cols:
        return entries
    p = profile.select(_k=profile[CUSTOMER_KEY], **{c: profile[c].cast("string") for c in cols})
    j = entries.left_join(p, entries[CUSTOMER_KEY] == p._k)
    return j.select(*[j[c] for c in entries.columns], *[j[c] for c in cols])


def funnel(entries: ibis.Table, spec: FunnelSpec, splits: Sequence[str] = ()) -> ibis.Table:
    """Units reached, conversion, drop-off and times of each step, overall and per split.

    Parameters
    ----------
    entries
        From ``funnel_entries`` (optionally ``with_profile``).
    spec
        The funnel.
    splits
        Columns of ``entries`` to split by (``channel``, ``device``, ``period``...).

    Returns
    -------
    ibis.Table
        The columns of ``journey_funnels``; the ``all`` split has every step even when
        nobody entered.
    """
    n = len(spec.steps)

    def aggs(e: ibis.Table) -> dict[str, ibis.Value]:
        out = {"entries": e.count()}
        for k in range(1, n + 1):
            out[f"reached_{k}"] = (e[REACHED] >= k).cast("int64").sum()
            if k > 1:
                gap = (e[f"ts_{k}"] - e[f"ts_{k - 1}"]).cast("float64")
                out |= {
                    f"mean_{k}": gap.mean(),
                    f"med_{k}": gap.quantile(0.5),
                    f"p90_{k}": gap.quantile(0.9),
                }
        return out

    parts = []
    for split in ("all", *splits):
        if split == "all":
            # A global aggregate has its row even when nobody entered: steps count 0.
            g = entries.aggregate(**aggs(entries)).mutate(split_value=ibis.literal("all"))
        else:
            e = entries.mutate(split_value=entries[split].cast("string").fill_null(UNKNOWN))
            g = e.group_by("split_value").aggregate(**aggs(e))
        entered = g.entries.cast("int64")
        for k, step in enumerate(spec.steps, start=1):
            reached = g[f"reached_{k}"].fill_null(0).cast("int64")
            before = g[f"reached_{k - 1}"].fill_null(0).cast("int64") if k > 1 else entered
            none = ibis.null("float64")
            parts.append(
                g.select(
                    funnel=ibis.literal(spec.name),
                    split=ibis.literal(split),
                    split_value=g.split_value,
                    step_no=ibis.literal(k, "int64"),
                    step=ibis.literal(step.name),
                    entries=entered,
                    reached=reached,
                    conversion=ibis.ifelse(entered > 0, reached / entered, none),
                    step_conversion=ibis.ifelse(before > 0, reached / before, none),
                    dropped=(before - reached).cast("int64"),
                    mean_seconds=g[f"mean_{k}"] if k > 1 else none,
                    median_seconds=g[f"med_{k}"] if k > 1 else none,
                    p90_seconds=g[f"p90_{k}"] if k > 1 else none,
                )
            )
    return ibis.union(*parts)


def lost_pages(entries: ibis.Table, spec: FunnelSpec) -> ibis.Table:
    """Per channel and step, the page most seen at the last step reached by lost entries.

    Returns ``channel``, ``step_no`` (the step not reached), ``page`` and ``lost``.
    """
    parts = []
    for k in range(2, len(spec.steps) + 1):
        e = entries.filter(entries[REACHED] == k - 1)
        parts.append(
            e.group_by(channel=e.channel, page=e.page)
            .aggregate(lost=e.count())
            .mutate(step_no=ibis.literal(k, "int64"))
        )
    pages = ibis.union(*parts)
    ranked = pages.mutate(
        r=ibis.row_number().over(
            group_by=[pages.channel, pages.step_no], order_by=[ibis.desc(pages.lost), pages.page]
        )
    )
    return ranked.filter(ranked.r == 0).drop("r")


def converted_value(entries: ibis.Table) -> ibis.Table:
    """Mean amount of the last step over converted entries, per channel."""
    return entries.group_by("channel").aggregate(value=entries.amount.mean())
