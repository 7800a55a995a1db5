"""Stage durations: the nominal (median) and p90 time of each stage transition, and alerts.

A transition's duration runs from the last touchpoint of the stage left to the first
touchpoint of the stage reached (``paths.transitions``). Thresholds come from
``journeys.duration_alerts``; every transition beyond its threshold is listed.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from parcours.config import DurationAlertConfig
from parcours.schema import JOURNEY_DURATION_ALERTS, JOURNEY_TRANSITIONS


def _thresholds(alerts: Sequence[DurationAlertConfig]) -> ibis.Table:
    rows = [(a.from_stage, a.to_stage, float(a.max_days)) for a in alerts] or [("", "", 0.0)]
    return ibis.memtable(
        {
            "_from": [r[0] for r in rows],
            "_to": [r[1] for r in rows],
            "threshold_days": [r[2] for r in rows],
        }
    )


def stage_durations(
    graph: ibis.Table, moves: ibis.Table, alerts: Sequence[DurationAlertConfig]
) -> ibis.Table:
    """The directly-follows graph with each edge's threshold and how many went beyond it.

    Parameters
    ----------
    graph
        ``paths.transition_graph`` output.
    moves
        ``paths.transitions`` output.
    alerts
        The thresholds.

    Returns
    -------
    ibis.Table
        The columns of ``journey_transitions``.
    """
    flagged = duration_alerts(moves, alerts)
    beyond = flagged.group_by(["from_stage", "to_stage"]).aggregate(
        beyond_threshold=flagged.count(), customers_beyond=flagged.journey_id.nunique()
    )
    beyond = beyond.rename(_bf="from_stage", _bt="to_stage")
    th = _thresholds(alerts)
    j = graph.left_join(th, [graph.from_stage == th._from, graph.to_stage == th._to])
    j = j.select(*graph.columns, "threshold_days")
    j = j.left_join(beyond, [j.from_stage == beyond._bf, j.to_stage == beyond._bt])
    return j.select(
        *graph.columns,
        threshold_days=j.threshold_days,
        beyond_threshold=ibis.ifelse(
            j.threshold_days.notnull(), j.beyond_threshold.fill_null(0), None
        ),
        customers_beyond=ibis.ifelse(
            j.threshold_days.notnull(), j.customers_beyond.fill_null(0), None
        ),
    ).select(*JOURNEY_TRANSITIONS.column_names)


def duration_alerts(moves: ibis.Table, alerts: Sequence[DurationAlertConfig]) -> ibis.Table:
    """Every transition longer than its threshold: the columns of ``journey_duration_alerts``."""
    th = _thresholds(alerts)
    j = moves.join(th, [moves.from_stage == th._from, moves.to_stage == th._to])
    j = j.filter(j.days > j.threshold_days)
    return j.select(*JOURNEY_DURATION_ALERTS.column_names)
