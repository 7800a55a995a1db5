"""Segment moves between two runs, on hand-made profiles whose moves are known."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from parcours.segments.moves import keep_previous_segments, write_segment_moves
from tests.engines import rows


def _profile(ws, day: dt.date, segments: dict[str, str | None]) -> None:
    data = pa.table(
        {
            "customer_key": list(segments),
            "as_of": [day] * len(segments),
            "lifecycle_segment": list(segments.values()),
        }
    )
    ws.engine.write("customer_profile", ws.engine.from_arrow(data, "p"), stage="test")


def test_moves_count_who_stayed_moved_arrived_and_left(make_workspace):
    ws = make_workspace("duckdb")
    # First run: nothing to compare with.
    assert not keep_previous_segments(ws)
    assert not write_segment_moves(ws)
    _profile(ws, dt.date(2026, 6, 30), {"a": "vip", "b": "lapsing", "c": "new", "e": "vip"})
    assert keep_previous_segments(ws)
    # The next profile: a stays, b lapses out, e too, c is gone, d arrives.
    _profile(ws, dt.date(2026, 9, 30), {"a": "vip", "b": "lost", "d": "new", "e": "lost"})
    assert write_segment_moves(ws)
    moves = {
        (r["from_segment"], r["to_segment"]): r["customers"] for r in rows(ws, "segment_moves")
    }
    assert moves == {
        ("vip", "vip"): 1,
        ("lapsing", "lost"): 1,
        ("vip", "lost"): 1,
        ("new", "none"): 1,
        ("none", "new"): 1,
    }
    dates = {(r["previous_as_of"], r["as_of"]) for r in rows(ws, "segment_moves")}
    assert dates == {(dt.date(2026, 6, 30), dt.date(2026, 9, 30))}


def test_a_profile_without_segments_keeps_the_previous_ones(make_workspace):
    ws = make_workspace("duckdb")
    _profile(ws, dt.date(2026, 6, 30), {"a": "vip"})
    assert keep_previous_segments(ws)
    # A rewritten profile has no segment column yet: the kept segments stay.
    data = pa.table({"customer_key": ["a"], "as_of": [dt.date(2026, 9, 30)]})
    ws.engine.write("customer_profile", ws.engine.from_arrow(data, "p"), stage="test")
    assert not keep_previous_segments(ws)
    assert rows(ws, "segment_previous") == [
        {"customer_key": "a", "lifecycle_segment": "vip", "as_of": dt.date(2026, 6, 30)}
    ]


def test_a_rerun_for_the_same_date_compares_with_the_same_earlier_segments(make_workspace):
    ws = make_workspace("duckdb")
    june, september = dt.date(2026, 6, 30), dt.date(2026, 9, 30)
    _profile(ws, june, {"a": "vip"})
    assert keep_previous_segments(ws, september)
    _profile(ws, september, {"a": "lost"})
    # Run again for September: the June segments stay the ones compared with.
    assert keep_previous_segments(ws, september)
    assert [r["lifecycle_segment"] for r in rows(ws, "segment_previous")] == ["vip"]
    # The date moves on: September's segments become the previous ones.
    assert keep_previous_segments(ws, dt.date(2026, 12, 31))
    assert [r["lifecycle_segment"] for r in rows(ws, "segment_previous")] == ["lost"]
