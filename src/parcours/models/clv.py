"""Customer lifetime value: a purchase-count model times a spend model, discounted monthly.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV: Using Iso-Value
   Curves for Customer Base Analysis. *Journal of Marketing Research*, 42(4), 415-430.
.. [2] Davidson-Pilon, C. et al. lifetimes 0.11: ``GammaGammaFitter.customer_lifetime_value``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from parcours.errors import UserInputError
from parcours.models._estimator import FloatArray
from parcours.models.bgnbd import BetaGeoModel, check_rfm
from parcours.models.gammagamma import GammaGammaModel
from parcours.models.mbgnbd import ModifiedBetaGeoModel

AVERAGE_DAYS_PER_MONTH = 365.25 / 12


def customer_lifetime_value(
    transaction_model: BetaGeoModel | ModifiedBetaGeoModel,
    spend_model: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon_months: int = 12,
    discount_rate_monthly: float = 0.01,
    time_unit_days: float = 1.0,
    days_per_month: float = AVERAGE_DAYS_PER_MONTH,
) -> FloatArray:
    """Discounted expected revenue of each customer over the next ``horizon_months``.

    ``CLV = E(spend) * sum_{m=1..M} [E(Y(m)) - E(Y(m - 1))] / (1 + d)^m``, where ``E(Y(m))``
    is the expected number of purchases by the end of month ``m``
    (``transaction_model.predict_purchases``) and ``E(spend)`` the expected value per
    purchase (``spend_model.expected_spend``). This is lifetimes' discounted-cash-flow
    approximation of the continuous discounting of [1]_.

    Parameters
    ----------
    transaction_model : BetaGeoModel or ModifiedBetaGeoModel
        Fitted purchase-count model.
    spend_model : GammaGammaModel
        Fitted spend model.
    frequency, recency, T : array-like
        The customers' summary, with ``recency`` and ``T`` in the time unit the transaction
        model was fitted in.
    monetary_value : array-like of float
        Mean value of each customer's repeat purchases (0 for one-time buyers).
    horizon_months : int, default 12
        Number of months to sum over.
    discount_rate_monthly : float, default 0.01
        Monthly discount rate ``d`` (0.01 is about 12.7% a year).
    time_unit_days : float, default 1.0
        Length in days of the model's time unit: 1 for days, 7 for weeks.
    days_per_month : float, default 365.25 / 12
        Length of a month in days. lifetimes uses 30 with daily data and 4.345 weeks
        (30.415 days) with weekly data; pass those to reproduce its figures.

    Returns
    -------
    numpy.ndarray
        Discounted expected revenue per customer, in the unit of ``monetary_value``.

    Raises
    ------
    UserInputError
        On invalid inputs or arguments.
    NotFittedError
        If either model is not fitted.
    """
    x, tx, age = check_rfm(frequency, recency, T)
    spend = spend_model.expected_spend(x, monetary_value)
    return spend * discounted_purchases(
        transaction_model,
        x,
        tx,
        age,
        horizon_months=horizon_months,
        discount_rate_monthly=discount_rate_monthly,
        time_unit_days=time_unit_days,
        days_per_month=days_per_month,
    )


def discounted_purchases(
    transaction_model: BetaGeoModel | ModifiedBetaGeoModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    horizon_months: int = 12,
    discount_rate_monthly: float = 0.01,
    time_unit_days: float = 1.0,
    days_per_month: float = AVERAGE_DAYS_PER_MONTH,
) -> FloatArray:
    """Expected purchases of each customer over ``horizon_months``, each month discounted.

    ``sum_{m=1..M} [E(Y(m)) - E(Y(m - 1))] / (1 + d)^m``: the factor of
    :func:`customer_lifetime_value` that multiplies the expected spend. It is exposed so that
    a caller can pair it with its own spend figure (for example when some customers' repeat
    purchases are worth 0 and the Gamma-Gamma model cannot score them).

    Parameters
    ----------
    transaction_model : BetaGeoModel or ModifiedBetaGeoModel
        Fitted purchase-count model.
    frequency, recency, T : array-like
        The customers' summary, in the time unit the model was fitted in.
    horizon_months, discount_rate_monthly, time_unit_days, days_per_month
        As in :func:`customer_lifetime_value`.

    Returns
    -------
    numpy.ndarray
        Discounted expected number of purchases per customer.

    Raises
    ------
    UserInputError
        On invalid inputs or arguments.
    NotFittedError
        If the model is not fitted.
    """
    _check_positive("horizon_months", horizon_months, integer=True)
    _check_positive("time_unit_days", time_unit_days)
    _check_positive("days_per_month", days_per_month)
    if (
        isinstance(discount_rate_monthly, bool)
        or not isinstance(discount_rate_monthly, int | float | np.integer | np.floating)
        or not -1 < discount_rate_monthly < np.inf
    ):
        raise UserInputError(
            f"discount_rate_monthly must be a float > -1. Got {discount_rate_monthly!r} instead."
        )
    x, tx, age = check_rfm(frequency, recency, T)
    periods_per_month = days_per_month / time_unit_days
    value = np.zeros_like(x)
    previous = np.zeros_like(x)
    for month in range(1, horizon_months + 1):
        cumulative = transaction_model.predict_purchases(month * periods_per_month, x, tx, age)
        value += (cumulative - previous) / (1 + discount_rate_monthly) ** month
        previous = cumulative
    return value


def _check_positive(name: str, value: object, *, integer: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 < value < np.inf:
        kind = "an int" if integer else "a float"
        raise UserInputError(f"{name} must be {kind} > 0. Got {value!r} instead.")
