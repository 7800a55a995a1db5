"""Run the customer-knowledge stages once on a copy of the keyed demo world, and read the
profile joined with the truth."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from parcours.facts import PROFILE
from parcours.metrics import write_kpis, write_profile
from parcours.segments import write_personas, write_segments
from parcours.workspace import Workspace


def knowledge_workspace(world) -> Workspace:
    """The copy of the keyed demo where the knowledge stages ran (see ``knowledge``)."""
    knowledge(world)
    return world._knowledge_ws


def knowledge(world) -> pd.DataFrame:
    """The demo's customer_profile (every stage run), joined with each person's behaviour.

    The stages run once per test session, on a copy: the shared world stays as keyed.
    """
    cached = getattr(world, "_knowledge", None)
    if cached is not None:
        return cached
    ws = world.keyed_copy(Path(tempfile.mkdtemp(prefix="parcours-knowledge-")) / "ws")
    world._knowledge_ws = ws
    write_profile(ws)
    write_segments(ws)
    world._personas = write_personas(ws)
    write_kpis(ws)
    profile = ws.engine.to_pyarrow(ws.engine.table(PROFILE)).to_pandas()
    persons = world.truth("persons")[
        ["person_id", "behaviour", "second_purchase_rule", "first_channel", "favourite_category"]
    ].rename(columns={"first_channel": "true_first_channel"})
    joined = profile.merge(persons, left_on="customer_key", right_on="person_id", how="left")
    world._knowledge = joined
    return joined
