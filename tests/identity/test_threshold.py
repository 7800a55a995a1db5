"""The threshold and the match share chosen from the model's probabilities, on hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from parcours.identity.matching import choose_threshold, estimates_at, refit_match_share


def test_threshold_is_the_lowest_whose_expected_precision_reaches_the_target():
    p = np.array([0.6, 1.0, 0.9, 1.0])
    # sorted 1, 1, .9, .6: running means 1, 1, .9667, .875
    t, precision, recall = choose_threshold(p, 0.95)
    assert t == 0.9
    assert precision == pytest.approx(2.9 / 3)
    assert recall == pytest.approx(2.9 / 3.5)


def test_a_link_that_joins_larger_groups_weighs_more():
    p = np.array([1.0, 1.0, 0.9])
    # unweighted, .9 keeps the mean at .967; joining two groups of 3 makes 9 pairs: (2 + 8.1) / 11
    assert choose_threshold(p, 0.95)[0] == 0.9
    t, precision, _ = choose_threshold(p, 0.95, np.array([1.0, 1.0, 9.0]))
    assert t == 1.0 and precision == 1.0
    # a link inside one group already makes no pair and cannot lower the precision
    assert choose_threshold(p, 0.95, np.array([1.0, 1.0, 0.0]))[0] == 0.9


def test_no_pair_below_one_half_is_ever_joined():
    p = np.array([1.0] * 100 + [0.4])
    t, _, _ = choose_threshold(p, 0.99)
    assert t == 1.0


def test_estimates_at_a_forced_threshold():
    p = np.array([1.0, 0.8, 0.2])
    precision, recall = estimates_at(p, 0.8)
    assert precision == pytest.approx(0.9)
    assert recall == pytest.approx(1.8 / 2.0)


def test_match_share_is_refitted_to_the_expected_number_of_matches():
    # 10 pairs certain to match (weight 30 bits) among 1,000 possible, all blocked: the share
    # that makes the sum of probabilities consistent is 10 / 1000, whatever the first guess.
    prior = 1e-4
    weights = np.full(10, 30.0) + np.log2(prior / (1 - prior))
    assert refit_match_share(weights, prior, 1_000, 1.0) == pytest.approx(0.01, rel=1e-3)
    # with half of the true pairs never compared, the share doubles
    assert refit_match_share(weights, prior, 1_000, 0.5) == pytest.approx(0.02, rel=1e-3)
