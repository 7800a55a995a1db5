"""Segment moves: how customers moved between lifecycle segments since the previous run.

The profile stage rewrites ``customer_profile`` without the segment columns, and the segments
stage rewrites them: before either, each person's segment is kept in ``segment_previous``;
after the segments are written, ``segment_moves`` counts customers per (previous, current)
segment. Nothing is kept on the first run, and no moves are written then. The kept segments
move on only with the date: a rerun for the same as-of date compares with the same earlier
segments, so that running twice on the same data writes the same moves.
"""

from __future__ import annotations

import datetime as dt

import ibis

from parcours.engine import conform
from parcours.facts import as_date, resolve_as_of
from parcours.schema import CUSTOMER_KEY, CUSTOMER_PROFILE, SEGMENT_MOVES, SEGMENT_PREVIOUS
from parcours.workspace import Workspace

STAGE = "segments"
# Not in the profile then (a new person), or no longer.
NONE = "none"


def keep_previous_segments(ws: Workspace, as_of: dt.date | None = None) -> bool:
    """Keep each person's lifecycle segment before it is rewritten; False when there is none."""
    engine = ws.engine
    if not engine.has_table(CUSTOMER_PROFILE.name):
        return False
    p = engine.table(CUSTOMER_PROFILE.name)
    if "lifecycle_segment" not in p.columns:
        return False
    if engine.has_table(SEGMENT_PREVIOUS.name) and as_date(
        engine.execute(p.as_of.max())
    ) == resolve_as_of(engine, as_of):
        return True
    kept = p.select(CUSTOMER_KEY, "lifecycle_segment", "as_of")
    engine.write(SEGMENT_PREVIOUS.name, conform(kept, SEGMENT_PREVIOUS), stage=STAGE)
    return True


def segment_moves(previous: ibis.Table, profile: ibis.Table) -> ibis.Table:
    """Customers per (previous segment, current segment), ``none`` on either side when absent."""
    before = previous.select(
        key=previous[CUSTOMER_KEY], before=previous.lifecycle_segment, previous_as_of=previous.as_of
    )
    now = profile.select(key=profile[CUSTOMER_KEY], now=profile.lifecycle_segment)
    both = before.outer_join(now, before.key == now.key)
    dates = before.aggregate(previous_as_of=before.previous_as_of.max()).cross_join(
        profile.aggregate(as_of=profile.as_of.max())
    )
    moves = both.group_by(
        from_segment=both.before.fill_null(NONE), to_segment=both.now.fill_null(NONE)
    ).aggregate(customers=both.count())
    return moves.cross_join(dates)


def write_segment_moves(ws: Workspace) -> bool:
    """Write ``segment_moves`` from the kept segments; False when nothing was kept."""
    engine = ws.engine
    if not engine.has_table(SEGMENT_PREVIOUS.name):
        return False
    moves = segment_moves(engine.table(SEGMENT_PREVIOUS.name), engine.table(CUSTOMER_PROFILE.name))
    engine.write(SEGMENT_MOVES.name, conform(moves, SEGMENT_MOVES), stage=STAGE)
    return True
