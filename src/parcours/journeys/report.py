"""The journeys stage: write every journey table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from parcours.engine import Engine, conform, ibis_schema
from parcours.errors import UserInputError
from parcours.facts import PROFILE, end_of, purchases_or_none, resolve_as_of
from parcours.journeys import crosschannel, durations, friction, funnels, moments, paths
from parcours.journeys.stages import check_stages, stage_names
from parcours.journeys.timeline import journey_timeline
from parcours.schema import (
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    JOURNEY_CROSS_CHANNEL,
    JOURNEY_DURATION_ALERTS,
    JOURNEY_FRICTION,
    JOURNEY_FUNNELS,
    JOURNEY_KPIS,
    JOURNEY_MOMENTS,
    JOURNEY_PATHS,
    JOURNEY_TABLES,
    JOURNEY_TIMELINE,
    JOURNEY_TRANSITIONS,
    OCCURRED_AT,
    STAGE,
    TOUCHPOINT,
    TableSpec,
)
from parcours.workspace import Workspace

STAGE_NAME = "journeys"


@dataclass
class JourneysReport:
    """What ``write_journeys`` wrote: rows per table, the funnels, and what to know."""

    rows: dict[str, int] = field(default_factory=dict)
    funnels: list[str] = field(default_factory=list)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    as_of: dt.date | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _write_frame(engine: Engine, spec: TableSpec, frame: pd.DataFrame) -> None:
    data = pa.Table.from_pandas(
        frame[spec.column_names], schema=ibis_schema(spec).to_pyarrow(), preserve_index=False
    )
    engine.write(
        spec.name, conform(engine.from_arrow(data, f"_{spec.name}"), spec), stage=STAGE_NAME
    )


def _count(engine: Engine, name: str) -> int:
    return int(engine.execute(engine.table(name).count()))


def _as_datetime(day: dt.date | dt.datetime | None) -> dt.datetime | None:
    if day is None or isinstance(day, dt.datetime):
        return day
    return dt.datetime.combine(day, dt.time())


def write_journeys(
    ws: Workspace,
    *,
    start: dt.date | dt.datetime | None = None,
    end: dt.date | dt.datetime | None = None,
    funnel_names: list[str] | None = None,
    as_of: dt.date | None = None,
) -> JourneysReport:
    """Write the journey tables: timeline, funnels, paths, transitions, friction, moments.

    Parameters
    ----------
    ws
        The workspace.
    start, end
        Funnel entries in ``[start, end)``; a date ``end`` is excluded. By default every
        entry whose full conversion window lies within the data. Conversions are followed
        past ``end`` to the end of the window, never past the as-of date.
    funnel_names
        Funnels of ``journeys.funnels`` to compute (default: all).
    as_of
        Only events and orders known on this date (its whole day) are used, in every
        journey table; default: everything ingested.

    Returns
    -------
    JourneysReport
        Rows written per table, notes (a funnel step not in the data yet, splits that could
        not be made...) and warnings (a funnel step that looks like a typo).

    Raises
    ------
    UserInputError
        No events or orders, or an unknown funnel.
    """
    engine, cfg = ws.engine, ws.config.journeys
    check_stages(cfg.stages)
    names = funnel_names or list(cfg.funnels)
    for name in names:
        if name not in cfg.funnels:
            raise UserInputError(
                f"unknown funnel {name!r}",
                hint=f"funnels of journeys.funnels: {', '.join(cfg.funnels) or 'none'}",
            )
    report = JourneysReport(
        funnels=names, start=_as_datetime(start), end=_as_datetime(end), as_of=as_of
    )
    whole = journey_timeline(engine, cfg.stages)
    if as_of is not None:
        # What happened after the as-of date was not known then; seq stays dense (a suffix).
        whole = whole.filter(whole[OCCURRED_AT] < end_of(as_of))
    engine.write(JOURNEY_TIMELINE.name, whole, stage=STAGE_NAME)
    tl = engine.table(JOURNEY_TIMELINE.name)
    found = engine.execute(tl.group_by([TOUCHPOINT, STAGE]).aggregate(n=tl.count()))
    if found.empty:
        raise UserInputError(
            "no events or orders of any person in the workspace",
            hint="ingest events and orders (parcours ingest events FILE), then parcours resolve",
        )
    last = pd.Timestamp(engine.execute(tl[OCCURRED_AT].max())).to_pydatetime()
    # Without orders (web analytics alone) the data ends with the last touchpoint.
    if as_of is None and not engine.has_table(CUSTOMER_ORDERS.name):
        as_of = last.date()
    as_of = resolve_as_of(engine, as_of)
    bought = purchases_or_none(engine, as_of)

    profile = engine.table(PROFILE) if engine.has_table(PROFILE) else None
    profile_splits = [c for c in funnels.PROFILE_SPLITS if profile is not None and c in profile]
    if profile is None:
        report.notes.append(
            "no customer_profile table: funnels are not split by segment or persona "
            "(run parcours profile and parcours segments first)"
        )
    elif len(profile_splits) < len(funnels.PROFILE_SPLITS):
        missing = sorted(set(funnels.PROFILE_SPLITS) - set(profile_splits))
        report.notes.append(f"customer_profile has no {', '.join(missing)}: no split by them")

    steps, pages, values = [], [], []
    for name in names:
        spec = funnels.funnel_spec(name, cfg.funnels[name], stage_names(cfg.stages))
        notes, warnings = funnels.check_steps(
            spec, list(found[TOUCHPOINT].dropna()), list(found[STAGE].dropna())
        )
        report.notes += notes
        report.warnings += warnings
        until = report.end or last - dt.timedelta(seconds=spec.window_seconds)
        entries = funnels.funnel_entries(tl, spec, report.start, until, report.as_of)
        entries = funnels.with_profile(entries, profile).cache()
        splits = [*funnels.SPLITS, *profile_splits]
        steps.append(engine.execute(funnels.funnel(entries, spec, splits)))
        pages.append(engine.execute(funnels.lost_pages(entries, spec)).assign(funnel=name))
        values.append(engine.execute(funnels.converted_value(entries)).assign(funnel=name))
        if "unknown" in set(steps[-1].query("split == 'device'").split_value) and (
            steps[-1].query("split == 'device'").split_value.nunique() == 1
        ):
            report.notes.append(f"{name}: no device in the events' properties: device unknown")
    funnel_rows = pd.concat(steps, ignore_index=True)
    _write_frame(engine, JOURNEY_FUNNELS, funnel_rows)

    average = engine.execute(bought.total_amount.mean()) or 0.0
    points = friction.friction_points(
        funnel_rows[funnel_rows.split == "channel"],
        pd.concat(pages, ignore_index=True),
        pd.concat(values, ignore_index=True),
        float(average),
    )
    _write_frame(engine, JOURNEY_FRICTION, points)

    r = paths.runs(tl).cache()
    revenue = bought.group_by(CUSTOMER_KEY).aggregate(revenue=bought.total_amount.sum())
    customers = r.filter(r[CUSTOMER_KEY].notnull())
    top = paths.top_paths(paths.journey_paths(customers, cfg.path_length), cfg.top_paths, revenue)
    engine.write(JOURNEY_PATHS.name, conform(top, JOURNEY_PATHS), stage=STAGE_NAME)

    moves = paths.transitions(r)
    graph = durations.stage_durations(paths.transition_graph(moves), moves, cfg.duration_alerts)
    engine.write(JOURNEY_TRANSITIONS.name, conform(graph, JOURNEY_TRANSITIONS), stage=STAGE_NAME)
    alerts = durations.duration_alerts(moves, cfg.duration_alerts)
    engine.write(
        JOURNEY_DURATION_ALERTS.name, conform(alerts, JOURNEY_DURATION_ALERTS), stage=STAGE_NAME
    )

    engine.write(
        JOURNEY_KPIS.name, conform(friction.session_kpis(tl), JOURNEY_KPIS), stage=STAGE_NAME
    )
    patterns = crosschannel.cross_channel(tl, bought, cfg.research_days)
    engine.write(
        JOURNEY_CROSS_CHANNEL.name, conform(patterns, JOURNEY_CROSS_CHANNEL), stage=STAGE_NAME
    )

    counts = engine.execute(
        moments.outcome_repurchases(tl, bought, cfg.moment_horizon_days, end_of(as_of))
    )
    found_moments = moments.moments_of_truth(counts, cfg.moment_horizon_days, cfg.confidence)
    _write_frame(engine, JOURNEY_MOMENTS, found_moments)

    for spec in JOURNEY_TABLES:
        report.rows[spec.name] = _count(engine, spec.name)
    return report
