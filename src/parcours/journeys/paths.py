"""Paths: each journey's sequence of stages, its most frequent starts, the directly-follows graph.

Also what comes before and after a chosen step.

A journey's *runs* are its touchpoints with consecutive repeats of the same stage merged:
``page_view, product_view, product_view, order`` is ``information_search >
evaluation_of_options > purchase``. Touchpoints of no stage are left out.
"""

from __future__ import annotations

from typing import Literal

import ibis

from parcours.schema import (
    CUSTOMER_KEY,
    JOURNEY_ID,
    OCCURRED_AT,
    SEQ,
    STAGE,
    TOUCHPOINT,
)

SEPARATOR = " > "
MORE = "…"
OTHER = "other"
START, END = "(start)", "(end)"


def runs(timeline: ibis.Table, level: Literal["stage", "touchpoint"] = "stage") -> ibis.Table:
    """Each journey as runs of one stage (or touchpoint), numbered from 1.

    Returns
    -------
    ibis.Table
        ``journey_id``, ``customer_key``, ``run`` (from 1), ``step``, ``started_at`` (first
        touchpoint of the run), ``ended_at`` (last one), ``touchpoints``, and ``next_step``
        and ``next_at`` (the step and start of the next run; null for the last run).
    """
    col = STAGE if level == "stage" else TOUCHPOINT
    t = timeline.filter(timeline[col].notnull())
    # Only what a run needs goes through the sorts.
    t = t.select(JOURNEY_ID, CUSTOMER_KEY, SEQ, OCCURRED_AT, col)
    # What comes before and after each touchpoint, in one pass.
    w = ibis.window(group_by=t[JOURNEY_ID], order_by=t[SEQ])
    nxt = t[col].lead().over(w)
    t = t.mutate(
        new=ibis.ifelse(t[col].lag().over(w) == t[col], 0, 1),
        last=ibis.ifelse(nxt == t[col], 0, 1),
        next_step=nxt,
        next_at=t[OCCURRED_AT].lead().over(w),
        no=ibis.row_number().over(w),
    )
    # Then, at each touchpoint, its run and where the run started (one more pass, no
    # grouping: the last touchpoint of a run says all of it; seq follows time, so the
    # latest start so far is the run's).
    upto = ibis.window(group_by=t[JOURNEY_ID], order_by=t[SEQ], rows=(None, 0))
    starts = t.new == 1
    t = t.mutate(
        run=t.new.sum().over(upto),
        started_at=t[OCCURRED_AT].max(where=starts).over(upto),
        first_no=t.no.max(where=starts).over(upto),
    )
    t = t.filter(t["last"] == 1)
    return t.select(
        JOURNEY_ID,
        CUSTOMER_KEY,
        "run",
        step=t[col],
        started_at=t.started_at,
        ended_at=t[OCCURRED_AT],
        touchpoints=t.no - t.first_no + 1,
        next_step=t.next_step,
        next_at=t.next_at,
    )


def _path_text(steps: list[ibis.StringValue]) -> ibis.StringValue:
    text = steps[0]
    for s in steps[1:]:
        text = text + ibis.coalesce(SEPARATOR + s, ibis.literal(""))
    return text


def journey_paths(r: ibis.Table, length: int) -> ibis.Table:
    """The first ``length`` runs of each journey as one text (``…`` when it goes on).

    Returns ``journey_id``, ``customer_key`` and ``path``.
    """
    g = r.group_by(JOURNEY_ID).aggregate(
        **{CUSTOMER_KEY: r[CUSTOMER_KEY].max()},
        runs=r.run.max(),
        **{
            f"s{i}": ibis.cases((r.run == i, r.step), else_=ibis.null(str)).max()
            for i in range(1, length + 1)
        },
    )
    text = _path_text([g[f"s{i}"] for i in range(1, length + 1)])
    text = ibis.ifelse(g.runs > length, text + SEPARATOR + MORE, text)
    return g.select(JOURNEY_ID, CUSTOMER_KEY, path=text)


def top_paths(paths: ibis.Table, top: int, value: ibis.Table | None = None) -> ibis.Table:
    """The ``top`` most frequent paths, then one ``other`` row: counts add up to all journeys.

    Parameters
    ----------
    paths
        ``journey_paths`` output.
    top
        How many paths to list.
    value
        ``customer_key`` and ``revenue`` per person, or None.

    Returns
    -------
    ibis.Table
        The columns of ``journey_paths``: rank, path, customers, share, revenue.
    """
    p = paths
    if value is not None:
        v = value.select(_k=value[CUSTOMER_KEY], _rev=value.revenue)
        j = p.left_join(v, p[CUSTOMER_KEY] == v._k)
        p = j.select(j.path, revenue=j._rev.fill_null(0.0))
    else:
        p = p.select(p.path, revenue=ibis.literal(0.0))
    g = p.group_by("path").aggregate(customers=p.count(), revenue=p.revenue.sum())
    g = g.mutate(
        r=ibis.row_number().over(order_by=[ibis.desc(g.customers), g.path]) + 1,
        total=g.customers.sum().over(),
    )
    label = ibis.ifelse(g.r <= top, g.path, OTHER)
    rank = ibis.ifelse(g.r <= top, g.r, top + 1)
    g = g.mutate(path=label, rank=rank)
    out = g.group_by(["rank", "path"]).aggregate(
        customers=g.customers.sum(), revenue=g.revenue.sum(), total=g.total.max()
    )
    return out.select(
        rank=out["rank"].cast("int64"),
        path=out.path,
        customers=out.customers.cast("int64"),
        share=out.customers / out.total,
        revenue=out.revenue.cast("float64"),
    )


def paths_around(r: ibis.Table, step: str, before: int = 3, after: int = 3) -> ibis.Table:
    """The runs before and after each journey's first run of ``step``.

    Returns
    -------
    ibis.Table
        ``journey_id``, ``before`` (the ``before`` runs leading to the step, ``(start)`` when
        the journey starts there) and ``after`` (the ``after`` runs that follow, ``(end)``
        when it stops there).
    """
    at = r.filter(r.step == step).group_by(JOURNEY_ID).aggregate(at=r.run.min())
    at = at.select(_j=at[JOURNEY_ID], at=at["at"])
    j = r.join(at, r[JOURNEY_ID] == at._j)
    j = j.select(JOURNEY_ID, "run", "step", "at")
    aggs = {}
    for i in range(1, before + 1):
        aggs[f"b{i}"] = ibis.cases((j.run == j["at"] - before - 1 + i, j.step)).max()
    for i in range(1, after + 1):
        aggs[f"a{i}"] = ibis.cases((j.run == j["at"] + i, j.step)).max()
    g = j.group_by(JOURNEY_ID).aggregate(**aggs)
    prior = [ibis.coalesce(g[f"b{i}"] + SEPARATOR, ibis.literal("")) for i in range(1, before + 1)]
    text_before = prior[0]
    for p in prior[1:]:
        text_before = text_before + p
    text_before = ibis.ifelse(text_before == "", START + SEPARATOR, text_before) + step
    nxt = _path_text([g[f"a{i}"] for i in range(1, after + 1)])
    text_after = step + SEPARATOR + ibis.coalesce(nxt, ibis.literal(END))
    return g.select(JOURNEY_ID, before=text_before, after=text_after)


def transitions(r: ibis.Table) -> ibis.Table:
    """Each direct transition of a journey from one run to the next, with its duration.

    A journey also goes from ``(start)`` to its first run and from its last run to
    ``(end)`` (no duration). The duration runs from the last touchpoint of the run left to
    the first touchpoint of the run reached, in days.

    Returns ``journey_id``, ``customer_key``, ``from_stage``, ``to_stage``, ``started_at``,
    ``ended_at`` and ``days``.
    """
    t = r.mutate(to_stage=r.next_step)
    days = (t.next_at.epoch_seconds() - t.ended_at.epoch_seconds()).cast("float64") / 86400
    inner = t.select(
        JOURNEY_ID,
        CUSTOMER_KEY,
        from_stage=t.step,
        to_stage=t.to_stage.fill_null(END),
        started_at=t.ended_at,
        ended_at=ibis.ifelse(t.to_stage.notnull(), t.next_at, None),
        days=ibis.ifelse(t.to_stage.notnull(), days, None),
    )
    first = r.filter(r.run == 1)
    starts = first.select(
        JOURNEY_ID,
        CUSTOMER_KEY,
        from_stage=ibis.literal(START),
        to_stage=first.step,
        started_at=first.started_at,
        ended_at=first.started_at,
        days=ibis.null("float64"),
    )
    return ibis.union(inner, starts)


def transition_graph(moves: ibis.Table) -> ibis.Table:
    """The directly-follows graph: transitions, journeys and durations per edge."""
    return moves.group_by(["from_stage", "to_stage"]).aggregate(
        transitions=moves.count(),
        customers=moves[JOURNEY_ID].nunique(),
        median_days=moves.days.quantile(0.5),
        p90_days=moves.days.quantile(0.9),
    )
