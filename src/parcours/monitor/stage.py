"""The monitor stage: series, baselines, incidents, explanations, customers, alerts.

The heavy part, aggregating orders into series, runs in the engine; only the series come
to Python to be fitted. Tables are written together by the pipeline's batch.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import ibis
import pandas as pd
import pyarrow as pa
from scipy.stats import poisson

from parcours.engine import Engine, arrow_rows, conform, ibis_schema
from parcours.facts import resolve_as_of
from parcours.monitor.alerts import alerting, send_alerts
from parcours.monitor.anomalies import drop_covered_weeks, incident_id, incidents, score_series
from parcours.monitor.calendar import calendar_regressors
from parcours.monitor.customers import abnormal_customers
from parcours.monitor.explain import explain
from parcours.monitor.series import kpi_series
from parcours.schema import (
    DIMENSION,
    DIMENSION_VALUE,
    GRAIN,
    INCIDENT_ID,
    JOURNEY_DURATION_ALERTS,
    KPI,
    MONITOR_ALERTS,
    MONITOR_ANOMALIES,
    MONITOR_CUSTOMERS,
    MONITOR_SERIES,
    PERIOD,
    TableSpec,
)
from parcours.workspace import Workspace

STAGE_NAME = "monitor"


@dataclass
class MonitorReport:
    """What ``write_monitor`` found and wrote."""

    as_of: dt.date
    series: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    incidents: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    new: pd.DataFrame | None = None
    customers: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0


def _write_frame(engine: Engine, spec: TableSpec, frame: pd.DataFrame) -> None:
    if frame.empty:  # pandas gives an empty column no usable type
        data = arrow_rows([], spec)
    else:
        data = pa.Table.from_pandas(
            frame[spec.column_names], schema=ibis_schema(spec).to_pyarrow(), preserve_index=False
        )
    engine.write(
        spec.name, conform(engine.from_arrow(data, f"_{spec.name}"), spec), stage=STAGE_NAME
    )


def _previous(engine: Engine, spec: TableSpec) -> pd.DataFrame:
    if engine.has_table(spec.name):
        return engine.execute(engine.table(spec.name))
    return pd.DataFrame(columns=spec.column_names)


# A week's count of late transitions is an incident when a Poisson count at the transition's
# usual weekly level would exceed it less than once in a thousand weeks.
LATE_WEEK_QUANTILE = 0.999


def journey_incidents(engine: Engine) -> pd.DataFrame:
    """Weeks whose count of transitions beyond their duration threshold is abnormal.

    The usual level is the median weekly count of the transition (weeks without a late
    transition count zero), so the handful of late deliveries every week does not alert and
    a week where they pile up does.
    """
    if not engine.has_table(JOURNEY_DURATION_ALERTS.name):
        return pd.DataFrame()
    a = engine.table(JOURNEY_DURATION_ALERTS.name)
    week = a.ended_at.truncate("W").date().name("start")
    g = a.group_by([a.from_stage, a.to_stage, week]).aggregate(
        observed=a.count(), threshold=a.threshold_days.max(), longest=a.days.max()
    )
    frame = engine.execute(g)
    if frame.empty:
        return frame
    frame["start"] = pd.to_datetime(frame["start"])
    weekly = []
    for _, f in frame.groupby(["from_stage", "to_stage"]):
        weeks = pd.date_range(f["start"].min(), f["start"].max(), freq="7D")
        usual = f.set_index("start")["observed"].reindex(weeks, fill_value=0).median()
        weekly.append(f.assign(expected=float(usual)))
    frame = pd.concat(weekly, ignore_index=True)
    frame["upper"] = poisson.ppf(LATE_WEEK_QUANTILE, frame["expected"].clip(lower=0.5))
    frame = frame[frame["observed"] > frame["upper"]]
    if frame.empty:
        return pd.DataFrame()
    value = frame["from_stage"] + " -> " + frame["to_stage"]
    start = frame["start"].dt.date
    observed = frame["observed"].astype(float)
    excess = observed / frame["upper"]
    return pd.DataFrame(
        {
            INCIDENT_ID: [
                incident_id("stage_duration", "transition", v, "week", s)
                for v, s in zip(value, start, strict=True)
            ],
            KPI: "stage_duration",
            DIMENSION: "transition",
            DIMENSION_VALUE: value,
            GRAIN: "week",
            "start": start,
            "end": start + dt.timedelta(days=6),
            "periods": 1,
            "observed": observed,
            "expected": frame["expected"],
            "lower": 0.0,
            "upper": frame["upper"],
            "difference": observed - frame["expected"],
            "relative": (observed - frame["expected"]) / frame["expected"].clip(lower=0.5),
            "score": excess,
            "severity": pd.cut(excess, [0, 2, 4, float("inf")], labels=["low", "medium", "high"])
            .astype(str)
            .to_numpy(),
            "kind": "journey_delay",
            "explanation": [
                f"{n:.0f} transitions beyond {t:g} days in the week (usually {u:g}; "
                f"longest {d:.1f})"
                for n, t, u, d in zip(
                    observed, frame["threshold"], frame["expected"], frame["longest"], strict=True
                )
            ],
            "top_dimension": "transition",
            "top_value": value,
            "top_share": 1.0,
        }
    ).reset_index(drop=True)


def write_monitor(
    ws: Workspace, as_of: dt.date | None = None, *, send: bool = True
) -> MonitorReport:
    """Write the KPI series and baselines, the explained incidents and abnormal customers.

    Then send the alerts of new incidents.

    Parameters
    ----------
    ws : Workspace
        The workspace, with resolved orders.
    as_of : datetime.date, optional
        Last day analysed; default the day of the last order.
    send : bool
        Send the alerts (the journal records them either way only once sent).

    Returns
    -------
    MonitorReport
    """
    engine, config = ws.engine, ws.config.monitor
    as_of = resolve_as_of(engine, as_of)
    series = kpi_series(engine, config, as_of)
    days = pd.date_range(series[PERIOD].min(), pd.Timestamp(as_of))
    calendar = calendar_regressors(days, config.country)
    scored = score_series(series, calendar, config.threshold, config.min_relative_change)
    found = explain(scored, drop_covered_weeks(incidents(scored)))
    journeys = journey_incidents(engine)
    if len(journeys):
        # An all-null column (no explanation on any incident) must not set the column's type.
        parts = [f.dropna(axis=1, how="all") for f in (found, journeys) if len(f)]
        columns = found.columns.union(journeys.columns, sort=False)
        found = pd.concat(parts, ignore_index=True).reindex(columns=columns)

    previous = _previous(engine, MONITOR_ANOMALIES)
    first_seen = dict(zip(previous[INCIDENT_ID], previous["detected_on"], strict=True))
    found["detected_on"] = [first_seen.get(i, as_of) for i in found[INCIDENT_ID]]
    new = found[~found[INCIDENT_ID].isin(first_seen)]

    out = scored.assign(**{PERIOD: scored[PERIOD].dt.date})
    _write_frame(engine, MONITOR_SERIES, out)
    _write_frame(engine, MONITOR_ANOMALIES, found)
    engine.write(MONITOR_CUSTOMERS.name, abnormal_customers(engine, as_of), stage=STAGE_NAME)

    journal = _previous(engine, MONITOR_ALERTS)
    sent = pd.DataFrame(columns=MONITOR_ALERTS.column_names)
    if send and config.transports:
        sent = send_alerts(alerting(found, config, as_of), journal, config, ws.dir)
        kept = journal[
            ~journal.set_index([INCIDENT_ID, "channel"]).index.isin(
                sent.set_index([INCIDENT_ID, "channel"]).index
            )
        ]
        parts = [f for f in (kept, sent) if len(f)]
        _write_frame(engine, MONITOR_ALERTS, pd.concat(parts) if parts else journal)
    elif not engine.has_table(MONITOR_ALERTS.name):
        _write_frame(engine, MONITOR_ALERTS, journal)

    per_series = scored.drop_duplicates([KPI, DIMENSION, DIMENSION_VALUE, GRAIN])
    return MonitorReport(
        as_of=as_of,
        series=len(per_series),
        methods=dict(Counter(per_series["method"])),
        incidents=len(found),
        kinds=dict(Counter(found["kind"])) if len(found) else {},
        new=new,
        customers=int(engine.execute(engine.table(MONITOR_CUSTOMERS.name).count())),
        alerts_sent=int((sent["status"] == "sent").sum()),
        alerts_failed=int((sent["status"] == "failed").sum()),
    )


def list_incidents(ws: Workspace, since: dt.date | None = None) -> pd.DataFrame:
    """The incidents of the last run, those ending on or after ``since`` when given."""
    engine = ws.engine
    if not engine.has_table(MONITOR_ANOMALIES.name):
        return pd.DataFrame(columns=MONITOR_ANOMALIES.column_names)
    t = engine.table(MONITOR_ANOMALIES.name)
    if since is not None:
        t = t.filter(t.end >= ibis.date(since))
    return engine.execute(t)
