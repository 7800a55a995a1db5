"""The pipeline: the one registry of stages, used by ``parcours run`` and by each stage's command.

Each stage is named as its CLI command, says which inputs it needs, and runs alone too;
``run`` runs them all in order. A stage whose inputs are missing is skipped with one line
saying what is missing and which command brings it, and the later stages go on. Stages are
imported when they run, so that one command loads only its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from parcours import console
from parcours.errors import MissingInputError
from parcours.schema import (
    CUSTOMER_EVENTS,
    CUSTOMER_ORDERS,
    CUSTOMER_PROFILE,
    CUSTOMERS,
    EVENTS,
    ORDERS,
)
from parcours.terminal import show as show_view
from parcours.views.locale import text
from parcours.views.model import Text, View
from parcours.views.run import outcomes_view
from parcours.workspace import Workspace


@dataclass(frozen=True)
class Need:
    """An input a stage cannot do without.

    Attributes
    ----------
    tables : tuple of str
        Tables of which at least one must exist and hold rows.
    code : str
        What the user lacks, as a key of the message catalogue (``need.<code>``: "no orders
        ingested").
    command : str
        The command that brings it.
    upstream : Need, optional
        What to report instead when this is missing too (orders not ingested, rather than
        not resolved).
    """

    tables: tuple[str, ...]
    code: str
    command: str
    upstream: Need | None = None

    @property
    def text(self) -> Text:
        """What the user lacks, in both languages."""
        return text(f"need.{self.code}")

    @property
    def missing(self) -> str:
        return self.text.en


RECORDS = Need(
    (CUSTOMERS.name, ORDERS.name, EVENTS.name),
    "records",
    "parcours ingest customers FILE",
)
RESOLVED_ORDERS = Need(
    (CUSTOMER_ORDERS.name,),
    "resolved_orders",
    "parcours resolve",
    Need((ORDERS.name,), "orders", "parcours ingest orders FILE, then parcours resolve"),
)
RESOLVED_EVENTS = Need(
    (CUSTOMER_EVENTS.name,),
    "resolved_events",
    "parcours resolve",
    Need((EVENTS.name,), "events", "parcours ingest events FILE, then parcours resolve"),
)
PROFILE = Need((CUSTOMER_PROFILE.name,), "profile", "parcours profile")
PURCHASES = (RESOLVED_ORDERS,)


@dataclass(frozen=True)
class Stage:
    """One stage: what it needs, how it runs, what it shows.

    ``run(ws, as_of, **options)`` returns a report of which ``views(ws, report)`` builds the
    views to show; the options are those of the stage's command (``parcours run`` passes
    none).
    """

    name: str
    needs: tuple[Need, ...]
    run: Callable[..., Any]
    views: Callable[[Workspace, Any], list[View]]
    description: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one stage in ``run``: ``ran`` (with seconds) or ``skipped`` (why)."""

    stage: str
    status: str
    seconds: float | None = None
    reason: str = ""


def _resolve(ws, as_of, *, full: bool = False):
    from parcours.identity import resolve

    return resolve(ws, full=full)


def _views_resolve(ws, summary):
    from parcours.views.identity import resolve_view

    return [resolve_view(summary)]


def _profile(ws, as_of, *, whole_run: bool = False):
    from parcours.metrics import write_profile
    from parcours.segments.moves import keep_previous_segments

    # The new profile has no segments: keep them, to count the moves once segments run.
    keep_previous_segments(ws, as_of)
    report = write_profile(ws, as_of)
    # Within a run the later stages come next and bring back the columns a new profile clears.
    return dataclasses.replace(report, cleared=()) if whole_run else report


def _views_profile(ws, report):
    from parcours.views.knowledge import profile_view

    return [profile_view(report)]


def _kpis(ws, as_of):
    from parcours.metrics import write_kpis

    return write_kpis(ws)


def _views_kpis(ws, report):
    from parcours.views.knowledge import kpi_view

    return [kpi_view(ws.engine)]


def _segments(ws, as_of):
    from parcours.metrics import write_segment_kpis
    from parcours.segments import write_segments
    from parcours.segments.moves import keep_previous_segments, write_segment_moves

    keep_previous_segments(ws, as_of)
    report = write_segments(ws)
    write_segment_moves(ws)
    # kpi_segments breaks KPIs down by the segment columns just added.
    write_segment_kpis(ws)
    return report


def _views_segments(ws, report):
    from parcours.views.segments import segment_kpi_view

    return [segment_kpi_view(ws.engine)]


def _personas(ws, as_of):
    from parcours.metrics import write_segment_kpis
    from parcours.segments import write_personas

    report = write_personas(ws)
    write_segment_kpis(ws)
    return report


def _views_personas(ws, report):
    from parcours.views.segments import personas_view

    return [personas_view(ws.engine)]


def _clv(ws, as_of, *, holdout_days: int | None = None):
    from parcours.models.predictions import write_predictions

    return write_predictions(ws, as_of, holdout_days=holdout_days)


def _views_clv(ws, report):
    from parcours.views.prediction import clv_view

    return [clv_view(report)]


def _journeys(ws, as_of, *, start=None, end=None, funnel: str | None = None):
    from parcours.journeys import write_journeys

    report = write_journeys(ws, start=start, end=end, as_of=as_of)
    return report, funnel


def _views_journeys(ws, result):
    from parcours.views.journeys import journey_notes_view, journeys_views

    report, funnel = result
    descriptions = {name: f.description for name, f in ws.config.journeys.funnels.items()}
    return [
        journey_notes_view(report.warnings, report.notes),
        *journeys_views(ws.engine, funnel, descriptions),
    ]


def _monitor(ws, as_of):
    from parcours.monitor import write_monitor

    return write_monitor(ws, as_of)


def _views_monitor(ws, report):
    from parcours.views.monitoring import monitor_run_view

    return [monitor_run_view(report)]


STAGES = (
    Stage(
        "resolve",
        (RECORDS,),
        _resolve,
        _views_resolve,
        "records to persons: golden records and keyed orders, events and consents",
    ),
    Stage("profile", PURCHASES, _profile, _views_profile, "one row per person as of a date"),
    Stage(
        "kpis",
        (*PURCHASES, PROFILE),
        _kpis,
        _views_kpis,
        "KPIs per segment and period, delays, renewal, recruitment, cohorts",
    ),
    Stage(
        "segments",
        (*PURCHASES, PROFILE),
        _segments,
        _views_segments,
        "RFM and lifecycle segments in the profile, and their KPIs",
    ),
    Stage(
        "personas",
        (*PURCHASES, PROFILE),
        _personas,
        _views_personas,
        "data-driven personas in the profile, and their KPIs",
    ),
    Stage("clv", PURCHASES, _clv, _views_clv, "purchases, P(alive), spend, CLV, churn risk"),
    Stage(
        "journeys",
        (RESOLVED_EVENTS,),
        _journeys,
        _views_journeys,
        "timelines, funnels, paths, friction points, moments of truth",
    ),
    Stage(
        "monitor",
        PURCHASES,
        _monitor,
        _views_monitor,
        "KPI series, seasonal baselines, explained incidents, abnormal customers, alerts",
    ),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


def stage(name: str) -> Stage:
    """The stage called ``name``."""
    return next(s for s in STAGES if s.name == name)


def missing_input(ws: Workspace, needs: Sequence[Need]) -> Need | None:
    """The first need the workspace does not meet (its tables absent or empty), or None."""
    for need in needs:
        if not _met(ws, need):
            while need.upstream is not None and not _met(ws, need.upstream):
                need = need.upstream
            return need
    return None


def _met(ws: Workspace, need: Need) -> bool:
    return any(_holds_rows(ws, name) for name in need.tables)


def _holds_rows(ws: Workspace, name: str) -> bool:
    engine = ws.engine
    return engine.has_table(name) and bool(engine.execute(engine.table(name).limit(1).count()))


def run_stage(ws: Workspace, name: str, as_of: dt.date | None = None, **options: Any) -> Any:
    """Run one stage as its command does, and print what it found.

    Raises
    ------
    MissingInputError
        When an input the stage needs is missing; the hint names the command that brings it.
    """
    s = stage(name)
    need = missing_input(ws, s.needs)
    if need is not None:
        raise MissingInputError(need.missing, hint=need.command)
    # The stage's tables are replaced together, or not at all.
    with ws.engine.batch(), console.err.status(f"{name}..."):
        report = s.run(ws, as_of, **options)
    for view in s.views(ws, report):
        show_view(view)
    return report


def run(ws: Workspace, as_of: dt.date | None = None, *, show: bool = True) -> list[Outcome]:
    """Run every stage in order, skipping those whose inputs are missing.

    Returns
    -------
    list of Outcome
        One per stage, in order: ran (with its seconds) or skipped (with why).
    """
    outcomes: list[Outcome] = []
    # Every table of the run is replaced at the end, together: a run stopped at any moment
    # leaves the tables of the previous run.
    with ws.engine.batch():
        for s in STAGES:
            need = missing_input(ws, s.needs)
            if need is not None:
                outcomes.append(_skipped(s.name, need.missing, need.command, show))
                continue
            options = {"whole_run": True} if s.name == "profile" else {}
            start = time.perf_counter()
            try:
                with console.err.status(f"{s.name}..."):
                    report = s.run(ws, as_of, **options)
            except MissingInputError as e:  # found once the stage looked at the data
                outcomes.append(_skipped(s.name, e.problem.message, e.hint, show))
                continue
            outcomes.append(Outcome(s.name, "ran", time.perf_counter() - start))
            if show:
                console.out.rule(s.name)
                for view in s.views(ws, report):
                    show_view(view)
    if show:
        show_view(outcomes_view(outcomes))
    return outcomes


def _skipped(name: str, missing: str, command: str | None, show: bool) -> Outcome:
    reason = f"{missing} ({command})" if command else missing
    if show:
        console.warn(f"{name} skipped: {reason}")
    return Outcome(name, "skipped", reason=reason)
