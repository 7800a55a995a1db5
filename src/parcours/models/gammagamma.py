"""The Gamma-Gamma model of average transaction value (Fader & Hardie 2013).

A customer's transaction values are ``Gamma(p, nu)`` around a customer-level rate
``nu ~ Gamma(q, v)``, independent of the purchase process, so the mean spend ``m`` of a
customer's ``x`` repeat purchases is shrunk towards the population mean ``p v / (q - 1)``
the less data the customer has.

References
----------
.. [1] Fader, P. S. and Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
   http://brucehardie.com/notes/025/
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV: Using Iso-Value
   Curves for Customer Base Analysis. *Journal of Marketing Research*, 42(4), 415-430.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from parcours.errors import UserInputError
from parcours.models._estimator import (
    BaseModel,
    FloatArray,
    as_float_array,
    check_arrays,
    check_weights,
    collapse_rows,
    maximise_log_likelihood,
    raise_problems,
    weighted_sum,
)

PARAM_NAMES = ("p", "q", "v")


def _check_spend(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary_value, "monetary_value")
    problems = check_arrays(
        {"frequency": x, "monetary_value": m},
        non_negative=("frequency", "monetary_value"),
        integer=("frequency",),
    )
    if not problems:
        zero_spend = (x > 0) & (m == 0)
        if zero_spend.any():
            i = int(np.flatnonzero(zero_spend)[0])
            problems.append(
                "monetary_value must be > 0 for customers with frequency > 0. Got "
                f"{int(zero_spend.sum())} repeat buyers with monetary_value 0 (first at "
                f"position {i}) instead."
            )
    raise_problems(problems)
    return x, m


class GammaGammaModel(BaseModel):
    """Gamma-Gamma model of the mean transaction value of repeat buyers ([1]_).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on ``(p, q, v)`` added to the mean negative log-likelihood, as in
        lifetimes' ``penalizer_coef`` (``v`` is in money units, so the penalty depends on them).
    max_iter : int, default 1000
        Maximum number of L-BFGS-B iterations.

    Attributes
    ----------
    params_ : dict of str to float
        Fitted ``p``, ``q`` and ``v`` (Fader & Hardie's gamma, in money units).
    log_likelihood_ : float
        Total log-likelihood of the repeat buyers' mean spends at ``params_``.
    n_customers_ : float
        Number of repeat buyers fitted.
    n_iter_ : int
        Iterations run by the optimiser.
    converged_ : bool
        Whether the optimiser stopped at a stationary point.

    References
    ----------
    .. [1] Fader, P. S. and Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
       http://brucehardie.com/notes/025/

    Examples
    --------
    Mean spends drawn from the model with ``p = 6, q = 4, v = 15``:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> frequency = rng.integers(1, 6, size=2000)
    >>> nu = rng.gamma(4.0, 1 / 15.0, size=2000)
    >>> spend = rng.gamma(6.0 * frequency, 1 / (nu * frequency))
    >>> model = GammaGammaModel().fit(frequency, spend)
    >>> {name: round(value, 1) for name, value in model.params_.items()}
    {'p': 6.1, 'q': 4.0, 'v': 14.6}
    >>> model.expected_spend([0, 3], [0.0, 40.0]).round(2)
    array([29.78, 38.56])
    """

    def __init__(self, penalizer: float = 0.0, max_iter: int = 1000) -> None:
        self.penalizer = penalizer
        self.max_iter = max_iter

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> GammaGammaModel:
        """Estimate ``p, q, v`` by maximum likelihood on the repeat buyers.

        Parameters
        ----------
        frequency : array-like of int
            Number of repeat purchases ``x``. Customers with ``x = 0`` carry no spend
            information and are skipped, so a whole RFM summary can be passed.
        monetary_value : array-like of float
            Mean value ``m`` of each customer's repeat purchases (> 0 where ``x > 0``).
        weights : array-like of float, optional
            Number of customers sharing each row.

        Returns
        -------
        self

        Raises
        ------
        UserInputError
            On invalid inputs or hyperparameters, or when there is no repeat buyer.

        Notes
        -----
        The log-likelihood of a customer is the log density of the mean spend,
        ``ln G(px + q) - ln G(px) - ln G(q) + q ln v + (px - 1) ln m + px ln x
        - (px + q) ln(v + x m)`` ([1]_); it is maximised over log-parameters with L-BFGS-B
        and its analytic gradient.
        """
        self._check_hyperparameters()
        x, m = _check_spend(frequency, monetary_value)
        w = check_weights(weights, len(x))
        repeat = (x > 0) & (w > 0)
        if not repeat.any():
            raise UserInputError(
                "GammaGammaModel needs repeat buyers: frequency must be > 0 for at least one "
                f"customer. Got {len(x)} customers who all have frequency 0 instead."
            )
        (x, m), w = collapse_rows([x[repeat], m[repeat]], w[repeat])
        data = _SpendData.build(x, m, w)
        start = np.log([1.0, 1.0, float(np.average(m, weights=w))])

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(log_params)
            ll, grad = _log_likelihood(params, data)
            n = data.n
            value = -ll / n + self.penalizer * np.sum(params**2)
            return float(value), (-grad / n + 2.0 * self.penalizer * params) * params

        log_params, self.n_iter_, self.converged_ = maximise_log_likelihood(
            objective, start, self.max_iter, type(self).__name__, PARAM_NAMES, ""
        )
        params = np.exp(log_params)
        self.params_ = {name: float(v) for name, v in zip(PARAM_NAMES, params, strict=True)}
        self.log_likelihood_ = _log_likelihood(params, data)[0]
        self.n_customers_ = data.n
        return self

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """Return the expected mean transaction value of each customer, given their past spend.

        ``E(M | p, q, v, m, x) = p (v + x m) / (p x + q - 1)`` ([1]_ eq. (5)), a weighted
        average of the population mean ``p v / (q - 1)`` and the customer's own mean ``m``.
        Customers with ``x = 0`` get the population mean.

        Parameters
        ----------
        frequency : array-like of int
            Number of repeat purchases ``x``.
        monetary_value : array-like of float
            Mean value of the repeat purchases (ignored where ``x = 0``).

        Returns
        -------
        numpy.ndarray
            Expected spend per transaction; NaN where it is undefined (``p x + q <= 1``,
            which needs a fitted ``q <= 1``).
        """
        self._check_is_fitted()
        x, m = _check_spend(frequency, monetary_value)
        p, q, v = (self.params_[name] for name in PARAM_NAMES)
        denominator = p * x + q - 1
        safe = np.where(denominator > 0, denominator, 1.0)
        return np.where(denominator > 0, p * (v + x * m) / safe, np.nan)


@dataclass(frozen=True)
class _SpendData:
    """Repeat buyers' rows, with the sums that do not depend on the parameters.

    Only ``ln(v + x m)`` needs a pass over the rows at each evaluation; the Gamma functions
    are evaluated once per distinct frequency.
    """

    n: float
    xu: FloatArray  # distinct frequencies, customers and sum of w * x * ln(x) per frequency
    wx: FloatArray
    w: FloatArray  # per row: weight, weight * x, x * m
    w_x: FloatArray
    xm: FloatArray
    sum_log_m: float  # sum of w ln(m) and of w x ln(m)
    sum_x_log_m: float

    @classmethod
    def build(cls, x: FloatArray, m: FloatArray, w: FloatArray) -> _SpendData:
        xu, xi = np.unique(x, return_inverse=True)
        log_m = np.log(m)
        return cls(
            n=float(w.sum()),
            xu=xu,
            wx=np.bincount(xi, weights=w, minlength=len(xu)),
            w=w,
            w_x=w * x,
            xm=x * m,
            sum_log_m=weighted_sum(w, log_m),
            sum_x_log_m=weighted_sum(w * x, log_m),
        )


def _log_likelihood(params: FloatArray, d: _SpendData) -> tuple[float, FloatArray]:
    """Total log-likelihood of the mean spends and its gradient in ``(p, q, v)``.

    Per customer, ``ln G(px + q) - ln G(px) - ln G(q) + q ln v + (px - 1) ln m + px ln x
    - (px + q) ln(v + x m)``.
    """
    p, q, v = params
    xu, wx = d.xu, d.wx
    pxu = p * xu
    log_xu = np.log(xu)
    psi_pxq = digamma(pxu + q)
    log_vxm = np.log(v + d.xm)
    inv_vxm = 1.0 / (v + d.xm)
    sum_log = weighted_sum(d.w, log_vxm)
    sum_x_log = weighted_sum(d.w_x, log_vxm)
    ll = (
        weighted_sum(wx, gammaln(pxu + q) - gammaln(pxu) + pxu * log_xu)
        + d.n * (q * np.log(v) - gammaln(q))
        + p * d.sum_x_log_m
        - d.sum_log_m
        - p * sum_x_log
        - q * sum_log
    )
    d_p = weighted_sum(wx * xu, psi_pxq - digamma(pxu) + log_xu) + d.sum_x_log_m - sum_x_log
    d_q = weighted_sum(wx, psi_pxq) - d.n * (digamma(q) - np.log(v)) - sum_log
    d_v = d.n * q / v - p * weighted_sum(d.w_x, inv_vxm) - q * weighted_sum(d.w, inv_vxm)
    return float(ll), np.array([d_p, d_q, d_v])
