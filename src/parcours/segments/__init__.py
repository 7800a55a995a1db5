"""Segments and personas: RFM, lifecycle and seasonal segments, data-driven personas."""

from parcours.segments.lifecycle import SegmentsReport, write_segments
from parcours.segments.personas import PersonasReport, write_personas
from parcours.segments.summary import print_knowledge

__all__ = [
    "PersonasReport",
    "SegmentsReport",
    "print_knowledge",
    "write_personas",
    "write_segments",
]
