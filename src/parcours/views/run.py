"""The closing view of ``parcours run``: what ran, what was skipped and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parcours.views.locale import text
from parcours.views.model import Column, Table, View

OUTCOME_COLUMNS = (
    Column("stage", text("col.stage")),
    Column("status", text("col.status")),
    Column("seconds", text("col.seconds"), "float", 1),
    Column("reason", text("col.why")),
)


def outcomes_view(outcomes: Sequence[Any]) -> View:
    """One row per stage of the run, in order."""
    title = text("run.outcomes")
    rows = tuple((o.stage, o.status, o.seconds, o.reason) for o in outcomes)
    return View("outcomes", title, tables=[Table(OUTCOME_COLUMNS, rows, title)])
