"""Customer journeys: timelines, stages, funnels, paths, durations, friction, moments of truth.

Entry points: ``write_journeys`` (the stage) and ``timeline`` (one person's touchpoints);
``parcours.views.journeys`` shows what they wrote.
"""

from __future__ import annotations

import pandas as pd

from parcours.journeys.report import JourneysReport, write_journeys
from parcours.workspace import Workspace


def timeline(ws: Workspace, customer_key: str) -> pd.DataFrame:
    """One person's touchpoints in order (or an anonymous visitor's, by anonymous id)."""
    from parcours.journeys.timeline import timeline as _timeline

    return _timeline(ws.engine, ws.config.journeys.stages, customer_key)


__all__ = ["JourneysReport", "timeline", "write_journeys"]
