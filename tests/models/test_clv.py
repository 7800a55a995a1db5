"""Customer lifetime value: lifetimes' documented CDNOW figures and discounting properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parcours.errors import NotFittedError, UserInputError
from parcours.models import BetaGeoModel, GammaGammaModel, customer_lifetime_value


@pytest.fixture(scope="module")
def cdnow(cdnow_dir):
    data = pd.read_csv(cdnow_dir / "cdnow_customers_summary_with_transactions.csv")
    transactions = BetaGeoModel().fit(data["x"], data["t_x"], data["T"])
    spend = GammaGammaModel().fit(data["x"], data["zbar"])
    return data, transactions, spend


def clv(cdnow, **kwargs):
    data, transactions, spend = cdnow
    return customer_lifetime_value(
        transactions, spend, data["x"], data["t_x"], data["T"], data["zbar"], **kwargs
    )


def test_reproduces_lifetimes_documented_clv_of_first_cdnow_customers(cdnow):
    """lifetimes' README: ``ggf.customer_lifetime_value(bgf, ..., time=12, discount_rate=0.01)``
    on this file prints these values for customers 1-10. Its default ``freq="D"`` treats the
    weekly data as days with 30-day months."""
    value = clv(
        cdnow, horizon_months=12, discount_rate_monthly=0.01, time_unit_days=1, days_per_month=30
    )

    documented = [
        140.096211,
        18.943467,
        38.180574,
        38.180574,
        38.180574,
        1003.868107,
        28.109683,
        38.180574,
        167.418216,
        38.180574,
    ]
    np.testing.assert_allclose(value[:10], documented, rtol=1e-5)


def test_without_discount_clv_is_spend_times_purchases_over_the_horizon(cdnow):
    data, transactions, spend = cdnow
    months, unit = 6, 7.0
    horizon = months * (365.25 / 12) / unit

    value = clv(cdnow, horizon_months=months, discount_rate_monthly=0.0, time_unit_days=unit)

    expected = spend.expected_spend(data["x"], data["zbar"]) * transactions.predict_purchases(
        horizon, data["x"], data["t_x"], data["T"]
    )
    np.testing.assert_allclose(value, expected, rtol=1e-10)


def test_clv_falls_with_the_discount_rate_and_rises_with_the_horizon(cdnow):
    low = clv(cdnow, discount_rate_monthly=0.0, time_unit_days=7)
    base = clv(cdnow, discount_rate_monthly=0.01, time_unit_days=7)
    high = clv(cdnow, discount_rate_monthly=0.05, time_unit_days=7)
    longer = clv(cdnow, horizon_months=24, discount_rate_monthly=0.01, time_unit_days=7)

    assert np.all(low > base) and np.all(base > high) and np.all(longer > base)


def test_a_month_is_about_four_weeks_or_thirty_days(cdnow):
    data = cdnow[0].head(50)
    weekly = clv((data, *cdnow[1:]), time_unit_days=7.0, days_per_month=28.0)
    daily_in_weeks = clv((data, *cdnow[1:]), time_unit_days=1.0, days_per_month=4.0)
    np.testing.assert_allclose(weekly, daily_in_weeks, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_months": 0}, r"horizon_months must be an int > 0\. Got 0 instead\."),
        ({"horizon_months": 1.5}, r"horizon_months must be an int > 0"),
        ({"discount_rate_monthly": -1.0}, r"discount_rate_monthly must be a float > -1"),
        ({"discount_rate_monthly": "1%"}, r"discount_rate_monthly must be a float > -1"),
        ({"time_unit_days": 0}, r"time_unit_days must be a float > 0"),
        ({"days_per_month": float("inf")}, r"days_per_month must be a float > 0"),
    ],
)
def test_rejects_invalid_arguments(cdnow, kwargs, message):
    with pytest.raises(UserInputError, match=message):
        clv(cdnow, **kwargs)


def test_rejects_invalid_customer_input(cdnow):
    _, transactions, spend = cdnow
    with pytest.raises(UserInputError, match="recency must be <= T"):
        customer_lifetime_value(transactions, spend, [1], [5.0], [4.0], [10.0])


def test_unfitted_models_raise_not_fitted_error(cdnow):
    _, transactions, _ = cdnow
    with pytest.raises(NotFittedError):
        customer_lifetime_value(transactions, GammaGammaModel(), [1], [1.0], [4.0], [10.0])
    with pytest.raises(NotFittedError):
        customer_lifetime_value(BetaGeoModel(), cdnow[2], [1], [1.0], [4.0], [10.0])
