"""Funnels: ordered steps with a conversion window per step, entry by entry.

Rules (also in ``docs/journeys.md``):

- A funnel's *unit* is a browsing session (``scope: session``: every step in the session of
  the entry) or a journey (``scope: customer``: steps in any channel).
- An *entry* is the first touchpoint matching step 1 of a unit whose time is in the date
  range ``[start, end)``; a unit enters a funnel at most once, so a customer (or session) is
  counted once per funnel entry, whatever they repeat.
- Step k is reached at the first touchpoint matching it after the touchpoint of step k-1
  (``loose``), or at the very next touchpoint of the unit (``strict``), and no later than
  step k-1's time plus step k's window. Conversions are counted up to the window after the
  entry, even past ``end``: the range bounds the entry only, so late entrants are not cut.
- Time to convert of step k is measured from step k-1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import ibis

from parcours.config import FunnelConfig, duration_seconds
from parcours.errors import UserInputError
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


@dataclass(frozen=True)
class FunnelStep:
    """One step: a touchpoint or a stage, optionally on some channels, and its window."""

    name: str
    on: Literal["touchpoint", "stage"]
    channels: tuple[str, ...]
    within_seconds: float

    def matches(self, t: ibis.Table) -> ibis.BooleanValue:
        """Which rows of a timeline are this step."""
        cond = t[STAGE if self.on == "stage" else TOUCHPOINT] == self.name
        if self.channels:
            cond &= t.channel.isin(self.channels)
        return cond.fill_null(False)


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel ready to compute: steps, scope and ordering."""

    name: str
    steps: tuple[FunnelStep, ...]
    scope: Literal["session", "customer"] = "customer"
    ordering: Literal["loose", "strict"] = "loose"

    @property
    def window_seconds(self) -> float:
        """Longest time from entry to the last step."""
        return sum(s.within_seconds for s in self.steps[1:])


def funnel_spec(name: str, config: FunnelConfig, stages: Sequence[str]) -> FunnelSpec:
    """A configured funnel as a ``FunnelSpec``; a step named like a stage matches the stage."""
    steps = tuple(
        FunnelStep(
            name=s.step,
            on="stage" if s.step in stages else "touchpoint",
            channels=tuple(s.channels),
            within_seconds=duration_seconds(s.within or config.within),
        )
        for s in config.steps
    )
    return FunnelSpec(name, steps, config.scope, config.ordering)


def check_steps(spec: FunnelSpec, touchpoints: Sequence[str]) -> None:
    """Refuse a funnel step that is neither a stage nor a touchpoint of the data."""
    for step in spec.steps:
        if step.on == "touchpoint" and step.name not in touchpoints:
            raise UserInputError(
                f"journeys.funnels.{spec.name}: step {step.name!r} is neither a stage nor a "
                "touchpoint of the data",
                hint=f"touchpoints found: {', '.join(sorted(touchpoints))}",
            )


def _unit(spec: FunnelSpec) -> list[str]:
    return [JOURNEY_ID, "session_id"] if spec.scope == "session" else [JOURNEY_ID]


def funnel_entries(
    timeline: ibis.Table,
    spec: FunnelSpec,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> ibis.Table:
    """One row per funnel entry, with the time each step was reached (null if not).

    Parameters
    ----------
    timeline
        ``journey_timeline`` (or the same columns).
    spec
        The funnel.
    start, end
        The entry range ``[start, end)``; open when None.

    Returns
    -------
    ibis.Table
        ``journey_id``, ``customer_key``, ``session_id`` (session scope), ``channel``,
        ``device``, ``period`` (``YYYY-MM`` of the entry), ``entered_at``, then per step k
        ``ts_k`` (epoch seconds), ``page_k`` (url) and ``amount`` of the last step.
    """
    n = len(spec.steps)
    unit = _unit(spec)
    t = timeline
    if spec.scope == "session":
        t = t.filter(t.session_id.notnull())
    flags = {f"m_{k}": s.matches(t) for k, s in enumerate(spec.steps, start=1)}
    if spec.ordering == "loose":
        # Touchpoints of no step cannot change a loose funnel: drop them before sorting.
        t = t.filter(ibis.or_(*flags.values()))
        flags = {f"m_{k}": s.matches(t) for k, s in enumerate(spec.steps, start=1)}
    u = t.select(
        *unit,
        CUSTOMER_KEY,
        SEQ,
        OCCURRED_AT,
        "channel",
        "device",
        "url",
        "amount",
        ts=t[OCCURRED_AT].epoch_seconds().cast("int64"),
        **flags,
    )
    w = ibis.window(group_by=[u[c] for c in unit], order_by=u[SEQ])
    u = u.mutate(pos=ibis.row_number().over(w))
    ahead = ibis.window(group_by=[u[c] for c in unit], order_by=u.pos, rows=(1, None))
    after = ibis.window(group_by=[u[c] for c in unit], order_by=u.pos)
    nxt = {}
    for k in range(2, n + 1):
        m = u[f"m_{k}"]
        if spec.ordering == "loose":
            nxt[f"np_{k}"] = ibis.cases((m, u.pos), else_=ibis.null("int64")).min().over(ahead)
            nxt[f"nt_{k}"] = ibis.cases((m, u.ts), else_=ibis.null("int64")).min().over(ahead)
        else:
            follows = m.lead().over(after).fill_null(False)
            nxt[f"np_{k}"] = ibis.ifelse(follows, u.pos + 1, ibis.null("int64"))
            nxt[f"nt_{k}"] = ibis.ifelse(follows, u.ts.lead().over(after), ibis.null("int64"))
    u = u.mutate(**nxt)

    first = u.filter(u.m_1)
    if start is not None:
        first = first.filter(first[OCCURRED_AT] >= ibis.timestamp(start))
    if end is not None:
        first = first.filter(first[OCCURRED_AT] < ibis.timestamp(end))
    first = first.mutate(
        r=ibis.row_number().over(group_by=[first[c] for c in unit], order_by=first.pos)
    )
    first = first.filter(first.r == 0)
    cur = first.select(
        *unit,
        CUSTOMER_KEY,
        "channel",
        "device",
        entered_at=first[OCCURRED_AT],
        pos_1=first.pos,
        ts_1=first.ts,
    )
    cur = cur.mutate(
        device=cur.device.fill_null(UNKNOWN),
        channel=cur.channel.fill_null(UNKNOWN),
        period=cur.entered_at.date().cast("string").substr(0, 7),
    )
    kept = list(cur.columns)
    for k in range(1, n + 1):
        cols = {f"r_{c}": u[c] for c in unit}
        extra = {f"page_{k}": u.url}
        if k < n:
            extra |= {"np": u[f"np_{k + 1}"], "nt": u[f"nt_{k + 1}"]}
        else:
            extra |= {"amount": u.amount}
        row = u.select(**cols, r_pos=u.pos, **extra).view()
        on = [(c, f"r_{c}") for c in unit] + [(f"pos_{k}", "r_pos")]
        j = cur.left_join(row, on)
        out = {c: j[c] for c in kept} | {f"page_{k}": j[f"page_{k}"]}
        if k < n:
            ok = j.nt.notnull() & (
                (j.nt - j[f"ts_{k}"]) <= ibis.literal(spec.steps[k].within_seconds)
            )
            out |= {
                f"pos_{k + 1}": ibis.ifelse(ok, j.np, ibis.null("int64")),
                f"ts_{k + 1}": ibis.ifelse(ok, j.nt, ibis.null("int64")),
            }
        else:
            out |= {"amount": ibis.ifelse(j[f"ts_{n}"].notnull(), j.amount, None)}
        cur = j.select(**out).view()
        kept = list(cur.columns)
    return cur.drop(*[f"pos_{k}" for k in range(1, n + 1)])


def with_profile(entries: ibis.Table, profile: ibis.Table | None) -> ibis.Table:
    """Entries with the segment and persona columns of ``customer_profile`` (when it has them)."""
    cols = [c for c in PROFILE_SPLITS if profile is not None and c in profile.columns]
    if not cols:
        return entries
    p = profile.select(_k=profile[CUSTOMER_KEY], **{c: profile[c].cast("string") for c in cols})
    j = entries.left_join(p, entries[CUSTOMER_KEY] == p._k)
    return j.select(*[j[c] for c in entries.columns], *[j[c] for c in cols])


def funnel(entries: ibis.Table, spec: FunnelSpec, splits: Sequence[str] = ()) -> ibis.Table:
    """Conversion and drop-off of each step, overall and for each split column of ``entries``.

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
        The columns of ``journey_funnels``.
    """
    n = len(spec.steps)
    parts = []
    for split in ("all", *splits):
        value = ibis.literal("all") if split == "all" else entries[split].cast("string")
        e = entries.mutate(split_value=value.fill_null(UNKNOWN))
        aggs = {"entries": e.count()}
        for k in range(1, n + 1):
            aggs[f"reached_{k}"] = e[f"ts_{k}"].count()
            if k > 1:
                gap = (e[f"ts_{k}"] - e[f"ts_{k - 1}"]).cast("float64")
                aggs[f"med_{k}"] = gap.quantile(0.5)
                aggs[f"p90_{k}"] = gap.quantile(0.9)
        g = e.group_by("split_value").aggregate(**aggs)
        for k, step in enumerate(spec.steps, start=1):
            reached = g[f"reached_{k}"]
            before = g[f"reached_{k - 1}"] if k > 1 else g.entries
            parts.append(
                g.select(
                    funnel=ibis.literal(spec.name),
                    split=ibis.literal(split),
                    split_value=g.split_value,
                    step_no=ibis.literal(k, "int64"),
                    step=ibis.literal(step.name),
                    entries=g.entries,
                    reached=reached,
                    conversion=ibis.ifelse(g.entries > 0, reached / g.entries, None),
                    step_conversion=ibis.ifelse(before > 0, reached / before, None),
                    dropped=(before - reached).cast("int64"),
                    median_seconds=g[f"med_{k}"] if k > 1 else ibis.null("float64"),
                    p90_seconds=g[f"p90_{k}"] if k > 1 else ibis.null("float64"),
                )
            )
    return ibis.union(*parts)


def lost_pages(entries: ibis.Table, spec: FunnelSpec) -> ibis.Table:
    """Per channel and step, the page most seen at the last step reached by lost entries.

    Returns ``channel``, ``step_no`` (the step not reached), ``page`` and ``lost``.
    """
    parts = []
    for k in range(2, len(spec.steps) + 1):
        e = entries.filter(entries[f"ts_{k - 1}"].notnull() & entries[f"ts_{k}"].isnull())
        parts.append(
            e.group_by(channel=e.channel, page=e[f"page_{k - 1}"])
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
