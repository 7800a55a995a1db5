"""The one registry of report sections: each names the table it needs and the stage writing it.

The report (and any other renderer of whole sections) walks ``SECTIONS`` in order, and says
for a section whose table holds no rows what the pipeline lacks to write it; a new capability
adds one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parcours.schema import (
    CRM_EVALUATION,
    CUSTOMER_PREDICTIONS,
    IDENTITY_MAP,
    INGEST_LOG,
    JOURNEY_FUNNELS,
    KPI_COHORTS,
    KPI_SEGMENTS,
    MONITOR_ANOMALIES,
    SEGMENT_LABELS,
)
from parcours.views.model import View
from parcours.workspace import Workspace


@dataclass(frozen=True)
class SectionSource:
    """A section: its key, the table it cannot do without, the stage writing that table."""

    key: str
    table: str
    # The stage whose command brings the table; None: ``parcours ingest``.
    stage: str | None
    build: Callable[[Workspace], list[View]]
    # The command bringing the table when it is not a stage's.
    command: str | None = None


def _quality(ws: Workspace) -> list[View]:
    from parcours.views.quality import quality_views

    return quality_views(ws.engine)


def _identity(ws: Workspace) -> list[View]:
    from parcours.views.identity import identity_views

    return identity_views(ws.engine, ws.dir)


def _knowledge(ws: Workspace) -> list[View]:
    from parcours.views.knowledge import knowledge_views

    return knowledge_views(ws.engine)


def _segments(ws: Workspace) -> list[View]:
    from parcours.views.segments import segment_views

    return segment_views(ws.engine)


def _cohorts(ws: Workspace) -> list[View]:
    from parcours.views.cohorts import cohort_views

    return cohort_views(ws.engine)


def _prediction(ws: Workspace) -> list[View]:
    from parcours.views.prediction import prediction_views

    return prediction_views(ws.engine)


def _journeys(ws: Workspace) -> list[View]:
    from parcours.views.journeys import journeys_views

    funnels = ws.config.journeys.funnels
    return journeys_views(ws.engine, None, {n: f.description for n, f in funnels.items()})


def _monitoring(ws: Workspace) -> list[View]:
    from parcours.views.monitoring import monitoring_views

    return monitoring_views(ws.engine)


def _plans(ws: Workspace) -> list[View]:
    from parcours.views.activation import activation_views

    return activation_views(ws.engine)


SECTIONS: tuple[SectionSource, ...] = (
    SectionSource("quality", INGEST_LOG.name, None, _quality),
    SectionSource("identity", IDENTITY_MAP.name, "resolve", _identity),
    SectionSource("knowledge", KPI_SEGMENTS.name, "kpis", _knowledge),
    SectionSource("segments", SEGMENT_LABELS.name, "segments", _segments),
    SectionSource("cohorts", KPI_COHORTS.name, "kpis", _cohorts),
    SectionSource("prediction", CUSTOMER_PREDICTIONS.name, "clv", _prediction),
    SectionSource("journeys", JOURNEY_FUNNELS.name, "journeys", _journeys),
    SectionSource("monitor", MONITOR_ANOMALIES.name, "monitor", _monitoring),
    SectionSource("plans", CRM_EVALUATION.name, None, _plans, "parcours plan evaluate"),
)
