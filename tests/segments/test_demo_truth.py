"""Segments and personas on the demo, against the behaviour planted for each person."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.metrics.knowledge import knowledge


@pytest.fixture(scope="module")
def profile(demo_world) -> pd.DataFrame:
    return knowledge(demo_world)


def precision_recall(profile: pd.DataFrame, segment: str, behaviour: str) -> tuple[float, float]:
    classed = profile.lifecycle_segment == segment
    planted = profile.behaviour == behaviour
    return (classed & planted).sum() / classed.sum(), (classed & planted).sum() / planted.sum()


def test_planted_festive_buyers_are_classed_seasonal(profile):
    precision, recall = precision_recall(profile, "seasonal", "festive")
    assert precision >= 0.9
    assert recall >= 0.9


def test_planted_tourists_are_classed_one_off_tourists(profile):
    precision, recall = precision_recall(profile, "tourist", "tourist")
    assert precision >= 0.9
    assert recall >= 0.9


def test_planted_new_customers_are_classed_new(profile):
    _, recall = precision_recall(profile, "new", "new_customer")
    assert recall >= 0.9


def test_planted_lapsing_customers_are_no_longer_regular(profile):
    lapsing = profile[profile.behaviour == "lapsing"]
    gone = lapsing.lifecycle_segment.isin(["lapsing", "inactive", "lost"]).mean()
    assert gone >= 0.9


def test_every_planted_behaviour_dominates_a_persona(profile):
    table = pd.crosstab(profile.persona, profile.behaviour)
    dominant = table.idxmax(axis=1)
    assert set(dominant) == set(profile.behaviour)
    # ... and where it dominates, it is the clear majority of the persona.
    for behaviour in set(profile.behaviour):
        personas = dominant[dominant == behaviour].index
        share = table.loc[personas, behaviour].sum() / table.loc[personas].to_numpy().sum()
        assert share >= 0.5, (behaviour, share)


def test_every_customer_has_one_segment_and_one_persona(profile):
    assert profile.lifecycle_segment.notna().all()
    buyers = profile[profile.orders > 0]
    assert buyers.persona.notna().all() and buyers.rfm_segment.notna().all()
