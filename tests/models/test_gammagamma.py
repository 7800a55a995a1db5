"""Gamma-Gamma: the published CDNOW fit, gradient, expected spend, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import check_grad
from scipy.special import gammaln

from parcours.errors import NotFittedError, UserInputError
from parcours.models import GammaGammaModel
from parcours.models.gammagamma import _log_likelihood, _SpendData

# Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", 946 CDNOW repeat buyers.
PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}


def test_fit_reproduces_published_cdnow_estimates(cdnow_calibration):
    """Mean repeat spend computed from CDNOW_master.txt (unrounded) gives the note's figures."""
    data = cdnow_calibration

    model = GammaGammaModel().fit(data["frequency"], data["monetary_value"])

    assert model.n_customers_ == 946
    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, abs=0.005), name
    assert model.converged_


def test_rounded_spend_file_shipped_by_lifetimes_does_not_reproduce_published_v(cdnow_dir):
    """cdnow_customers_summary_with_transactions.csv rounds mean spend to cents, which moves
    v to 15.448: the published 15.44 needs the unrounded data (previous test)."""
    data = pd.read_csv(cdnow_dir / "cdnow_customers_summary_with_transactions.csv")

    model = GammaGammaModel().fit(data["x"], data["zbar"])

    assert model.params_["p"] == pytest.approx(PUBLISHED["p"], abs=0.005)
    assert model.params_["q"] == pytest.approx(PUBLISHED["q"], abs=0.01)
    assert model.params_["v"] == pytest.approx(15.448, abs=5e-4)


def test_log_likelihood_equals_the_density_of_mean_spend_customer_by_customer(cdnow_calibration):
    repeat = cdnow_calibration[cdnow_calibration["frequency"] > 0]
    x = repeat["frequency"].to_numpy(float)
    m = repeat["monetary_value"].to_numpy()
    p, q, v = 6.25, 3.74, 15.44
    plain = sum(
        gammaln(p * xi + q)
        - gammaln(p * xi)
        - gammaln(q)
        + q * np.log(v)
        + (p * xi - 1) * np.log(mi)
        + p * xi * np.log(xi)
        - (p * xi + q) * np.log(v + xi * mi)
        for xi, mi in zip(x, m, strict=True)
    )

    ll, _ = _log_likelihood(np.array([p, q, v]), _SpendData.build(x, m, np.ones(len(x))))

    assert ll == pytest.approx(plain, rel=1e-12)


@pytest.mark.parametrize("params", [[6.0, 3.0, 15.0], [1.0, 1.0, 1.0], [0.5, 8.0, 100.0]])
def test_analytic_gradient_matches_finite_differences(cdnow_calibration, params):
    repeat = cdnow_calibration[cdnow_calibration["frequency"] > 0]
    x = repeat["frequency"].to_numpy(float)
    m = repeat["monetary_value"].to_numpy()
    data = _SpendData.build(x, m, np.ones(len(x)))

    def value(p):
        return _log_likelihood(p, data)[0]

    def gradient(p):
        return _log_likelihood(p, data)[1]

    p0 = np.array(params)
    assert check_grad(value, gradient, p0, epsilon=1e-7) <= 1e-5 * np.linalg.norm(gradient(p0))


def test_expected_spend_is_equation_5(cdnow_calibration):
    model = GammaGammaModel().fit(
        cdnow_calibration["frequency"], cdnow_calibration["monetary_value"]
    )
    p, q, v = model.params_["p"], model.params_["q"], model.params_["v"]
    x = np.array([1, 2, 10])
    m = np.array([20.0, 35.0, 50.0])

    # Weighted average of the population mean and the customer's own mean.
    population = p * v / (q - 1)
    weight = (q - 1) / (p * x + q - 1)
    expected = weight * population + (1 - weight) * m

    np.testing.assert_allclose(model.expected_spend(x, m), expected, rtol=1e-12)


def test_expected_spend_shrinks_towards_the_population_mean():
    model = GammaGammaModel()
    model.params_ = dict(PUBLISHED)
    population = 6.25 * 15.44 / (3.74 - 1)

    spend = model.expected_spend([0, 1, 5, 1000], [0.0, 100.0, 100.0, 100.0])

    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < spend[3] < 100.0
    assert spend[3] == pytest.approx(100.0, rel=1e-3)


def test_expected_spend_is_nan_where_the_model_mean_is_undefined():
    model = GammaGammaModel()
    model.params_ = {"p": 2.0, "q": 0.5, "v": 10.0}
    spend = model.expected_spend([0, 1], [0.0, 30.0])
    assert np.isnan(spend[0])
    assert spend[1] == pytest.approx(2.0 * (10.0 + 30.0) / 1.5)


def test_customers_without_repeat_purchase_are_ignored_by_fit(cdnow_calibration):
    data = cdnow_calibration
    repeat = data[data["frequency"] > 0]

    everyone = GammaGammaModel().fit(data["frequency"], data["monetary_value"])
    buyers = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])

    assert everyone.params_ == pytest.approx(buyers.params_)
    assert everyone.n_customers_ == buyers.n_customers_ == 946


def test_fit_recovers_simulated_parameters():
    rng = np.random.default_rng(3)
    n = 50_000
    x = rng.integers(1, 10, size=n)
    nu = rng.gamma(4.0, 1 / 20.0, size=n)
    spend = rng.gamma(6.0 * x, 1 / (nu * x))

    model = GammaGammaModel().fit(x, spend)

    assert model.params_ == pytest.approx({"p": 6.0, "q": 4.0, "v": 20.0}, rel=0.1)


@pytest.mark.parametrize(
    ("frequency", "monetary_value", "message"),
    [
        ([1, 2], [10.0, 0.0], r"monetary_value must be > 0 for customers with frequency > 0"),
        ([1, 2], [10.0, -3.0], r"monetary_value must be >= 0"),
        ([1, 2], [10.0, np.nan], r"monetary_value must be finite"),
        ([1, 2.5], [10.0, 3.0], r"frequency must be a whole number"),
        ([1, 2, 3], [10.0, 3.0], r"must have the same length"),
        ([0, 0], [0.0, 0.0], r"frequency must be > 0 for at least one customer"),
    ],
)
def test_fit_rejects_invalid_input(frequency, monetary_value, message):
    with pytest.raises(UserInputError, match=message):
        GammaGammaModel().fit(frequency, monetary_value)


def test_fit_rejects_invalid_penalizer():
    with pytest.raises(UserInputError, match=r"'penalizer' parameter of GammaGammaModel"):
        GammaGammaModel(penalizer=-0.5).fit([1, 2], [10.0, 20.0])


def test_unfitted_model_raises_not_fitted_error():
    with pytest.raises(NotFittedError, match="GammaGammaModel instance is not fitted"):
        GammaGammaModel().expected_spend([1], [10.0])


def test_get_params_reads_the_init_signature():
    assert GammaGammaModel(penalizer=0.5).get_params() == {"max_iter": 1000, "penalizer": 0.5}
