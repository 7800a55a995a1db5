"""What the ingest and resolve commands print: their views, drawn by the terminal renderer."""

from __future__ import annotations

from parcours.terminal import show
from parcours.views.identity import resolve_view
from parcours.views.quality import ingest_view


def print_ingest_report(report) -> None:
    """Counts per file on stdout; quarantined examples and failures on stderr."""
    show(ingest_view(report))


def print_resolve(summary) -> None:
    """The identity summary: persons, how records joined, sizes, what was held apart."""
    show(resolve_view(summary))
