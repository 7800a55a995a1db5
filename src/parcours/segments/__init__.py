"""Segments and personas: RFM, lifecycle and seasonal segments, data-driven personas."""

from parcours.segments.lifecycle import SegmentsReport, write_segments
from parcours.segments.personas import PersonasReport, write_personas

__all__ = [
    "PersonasReport",
    "SegmentsReport",
    "write_personas",
    "write_segments",
]
