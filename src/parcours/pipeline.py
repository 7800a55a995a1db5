"""The pipeline: every stage in order, each reading and writing tables (``parcours run``).

Each stage is named as its CLI command and runs alone too; ``run`` runs them all and prints
what each found. Stages are imported when they run, so that one command loads only its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parcours import console
from parcours.workspace import Workspace


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Workspace, dt.date | None], Any]
    show: Callable[[Workspace, Any], None]


def _resolve(ws, as_of):
    from parcours.identity import resolve

    return resolve(ws)


def _show_resolve(ws, summary):
    from parcours.cli import print_resolve

    print_resolve(summary)


def _profile(ws, as_of):
    from parcours.metrics import write_kpis, write_profile

    # The later stages run next and bring back the columns a new profile clears.
    report = dataclasses.replace(write_profile(ws, as_of), cleared=())
    return report, write_kpis(ws)


def _show_profile(ws, reports):
    from parcours.segments.summary import print_kpis, print_profile

    print_profile(reports[0])
    print_kpis(ws, reports[1])


def _segments(ws, as_of):
    from parcours.segments import write_personas, write_segments

    return write_segments(ws), write_personas(ws)


def _show_segments(ws, reports):
    from parcours.segments.summary import print_personas, print_segments

    print_segments(ws)
    print_personas(ws)


def _clv(ws, as_of):
    from parcours.models.predictions import write_predictions

    return write_predictions(ws, as_of)


def _show_clv(ws, report):
    from parcours.models.predictions import print_clv

    print_clv(report)


def _journeys(ws, as_of):
    from parcours.journeys import write_journeys

    return write_journeys(ws, as_of=as_of)


def _show_journeys(ws, report):
    from parcours.journeys import print_journeys

    for line in [*report.warnings, *report.notes]:
        console.warn(line)
    print_journeys(ws)


STAGES = (
    Stage("resolve", _resolve, _show_resolve),
    Stage("profile", _profile, _show_profile),
    Stage("segments", _segments, _show_segments),
    Stage("clv", _clv, _show_clv),
    Stage("journeys", _journeys, _show_journeys),
)


def run(ws: Workspace, as_of: dt.date | None = None, *, show: bool = True) -> dict[str, float]:
    """Run every stage in order; return the seconds each took."""
    timings: dict[str, float] = {}
    # Every table of the run is replaced at the end, together: a run stopped at any moment
    # leaves the tables of the previous run.
    with ws.engine.batch():
        for stage in STAGES:
            start = time.perf_counter()
            with console.err.status(f"{stage.name}..."):
                result = stage.run(ws, as_of)
            timings[stage.name] = time.perf_counter() - start
            if show:
                console.out.rule(stage.name)
                stage.show(ws, result)
    if show:
        console.table(
            "Pipeline", ["stage", "seconds"], [(k, round(v, 1)) for k, v in timings.items()]
        )
    return timings
