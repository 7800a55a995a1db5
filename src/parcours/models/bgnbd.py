"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

Each customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)`` while alive and, after each
repeat purchase, drops out with probability ``p ~ Beta(a, b)``. The model is fitted on the
per-customer summary ``(frequency, recency, T)`` built by :func:`parcours.models.rfm_summary`.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting Your Customers" the Easy
   Way: An Alternative to the Pareto/NBD Model. *Marketing Science*, 24(2), 275-284.
.. [2] Fader, P. S. and Hardie, B. G. S. (2013). Overcoming the BG/NBD Model's #NUM! Error
   Problem. http://brucehardie.com/notes/027/
.. [3] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2008). Computing P(alive) Using the BG/NBD
   Model. http://brucehardie.com/notes/021/
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

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

PARAM_NAMES = ("r", "alpha", "a", "b")


def check_rfm(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return ``(frequency, recency, T)`` as float arrays, or raise listing every problem.

    Raises
    ------
    UserInputError
        On mismatched lengths, NaN or infinite values, negative values, a non-integer
        frequency, recency greater than T, or a positive recency with zero frequency.
    """
    x = as_float_array(frequency, "frequency")
    tx = as_float_array(recency, "recency")
    age = as_float_array(T, "T")
    problems = check_arrays(
        {"frequency": x, "recency": tx, "T": age},
        non_negative=("frequency", "recency", "T"),
        integer=("frequency",),
    )
    if not problems:
        over = tx > age
        if over.any():
            i = int(np.flatnonzero(over)[0])
            problems.append(
                "recency must be <= T (the last purchase cannot come after the end of the "
                f"observation period). Got {int(over.sum())} customers with recency > T (first "
                f"at position {i}: recency={tx[i]!r}, T={age[i]!r}) instead."
            )
        orphan = (x == 0) & (tx > 0)
        if orphan.any():
            i = int(np.flatnonzero(orphan)[0])
            problems.append(
                "recency must be 0 where frequency is 0 (no repeat purchase, so no time between "
                f"first and last purchase). Got {int(orphan.sum())} customers with frequency 0 "
                f"and recency > 0 (first at position {i}: recency={tx[i]!r}) instead."
            )
    raise_problems(problems)
    return x, tx, age


@dataclass(frozen=True)
class _Patterns:
    """Distinct customer patterns, indexed so that each likelihood evaluation is cheap.

    Terms that depend on ``x`` only are computed per distinct frequency, terms in ``T`` or
    ``t_x`` per distinct time and gathered, and the second likelihood term (absent for
    BG/NBD one-time buyers) is evaluated on its own subset of rows.
    """

    n: float  # number of customers
    xu: FloatArray  # distinct frequencies, with their customer counts
    wx: FloatArray
    has2: np.ndarray  # whether the distinct frequency has the second term
    tu: FloatArray  # distinct T, with sum(w) and sum(w * x) per T
    wt: FloatArray
    wxt: FloatArray
    txu: FloatArray  # distinct recencies among the rows with the second term
    w2: FloatArray  # per row with the second term: weight, x, and codes of x, T and t_x
    x2: FloatArray
    xi2: np.ndarray
    ti2: np.ndarray
    ri2: np.ndarray

    @classmethod
    def build(
        cls, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray, second_for_all: bool
    ) -> _Patterns:
        xu, xi = np.unique(x, return_inverse=True)
        ti, tu = pd.factorize(T)
        second = np.ones(len(x), dtype=bool) if second_for_all else x > 0
        ri2, txu = pd.factorize(tx[second])
        return cls(
            n=float(w.sum()),
            xu=xu,
            wx=np.bincount(xi, weights=w, minlength=len(xu)),
            has2=np.ones(len(xu), dtype=bool) if second_for_all else xu > 0,
            tu=np.asarray(tu, dtype=np.float64),
            wt=np.bincount(ti, weights=w, minlength=len(tu)),
            wxt=np.bincount(ti, weights=w * x, minlength=len(tu)),
            txu=np.asarray(txu, dtype=np.float64),
            w2=w[second],
            x2=x[second],
            xi2=xi[second],
            ti2=ti[second],
            ri2=ri2,
        )

    def rescaled(self, scale: float) -> _Patterns:
        return replace(self, tu=self.tu * scale, txu=self.txu * scale)


class _BetaGeoFamily(BaseModel):
    """Shared likelihood, fit and predictions of BG/NBD (``_shift = 0``) and MBG/NBD (1).

    Both models write the likelihood as ``exp(C) * (exp(A1) + exp(A2))`` with
    ``A1 = ln B(a, b + x + k) - (r + x) ln(alpha + T)`` and
    ``A2 = ln B(a + 1, b + x + k - 1) - (r + x) ln(alpha + t_x)``; BG/NBD (``k = 0``) drops
    ``A2`` for customers without repeat purchases, MBG/NBD (``k = 1``) keeps it for everyone.
    """

    _shift = 0
    _second_term_without_repeat = False

    def __init__(self, penalizer: float = 0.0, max_iter: int = 1000) -> None:
        self.penalizer = penalizer
        self.max_iter = max_iter

    # -- fitting -----------------------------------------------------------------------------

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> _BetaGeoFamily:
        """Estimate ``r, alpha, a, b`` by maximum likelihood.

        Parameters
        ----------
        frequency : array-like of int
            Number of repeat purchases (purchase periods after the first), ``x``.
        recency : array-like of float
            Time between the first and the last purchase, ``t_x`` (0 when ``x`` is 0).
        T : array-like of float
            Time between the first purchase and the end of the observation period.
        weights : array-like of float, optional
            Number of customers sharing each ``(frequency, recency, T)`` row. Identical rows are
            merged internally in any case, so this only saves the caller memory.

        Returns
        -------
        self
            With ``params_`` (dict ``r, alpha, a, b``; ``alpha`` in the time unit of ``T``),
            ``log_likelihood_`` (total over customers), ``n_customers_``, ``n_iter_`` and
            ``converged_``.

        Raises
        ------
        UserInputError
            On invalid inputs or hyperparameters, or when no customer made a repeat purchase
            (the parameters are then not identified: the likelihood grows as ``r -> 0``).

        Notes
        -----
        The objective is ``-LL / n_customers + penalizer * sum(params ** 2)``, minimised over
        log-parameters with L-BFGS-B and the analytic gradient. As in lifetimes, times are
        rescaled so that the oldest customer has ``T = 10`` while optimising, which makes the
        penalizer independent of the time unit; ``alpha`` is reported in the original unit.
        """
        self._check_hyperparameters()
        x, tx, age = check_rfm(frequency, recency, T)
        w = check_weights(weights, len(x))
        if w[x > 0].sum() == 0:
            raise UserInputError(
                f"{type(self).__name__} needs customers with repeat purchases: frequency must be "
                f"> 0 for at least one customer. Got {int(round(w.sum()))} customers who all "
                "have frequency 0 instead.",
                hint="fit on a longer observation period, or predict from a model fitted on "
                "another cohort",
            )
        data = self._patterns(x, tx, age, w)
        scale = 10.0 / age.max() if age.max() > 0 else 1.0
        scaled = data.rescaled(scale)

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            return self._negative_log_likelihood(log_params, scaled, self.penalizer)

        zero_recency = int(round(w[(x > 0) & (tx == 0)].sum()))
        hint = (
            f" {zero_recency} repeat buyers have recency 0, which makes the likelihood unbounded "
            "as alpha -> 0: count purchase days rather than orders (rfm_summary does), so that "
            "repeat buyers have recency > 0."
            if zero_recency
            else ""
        )
        log_params, self.n_iter_, self.converged_ = maximise_log_likelihood(
            objective, np.zeros(4), self.max_iter, type(self).__name__, PARAM_NAMES, hint
        )
        r, alpha, a, b = np.exp(log_params)
        alpha /= scale
        self.params_ = dict(
            zip(PARAM_NAMES, (float(r), float(alpha), float(a), float(b)), strict=True)
        )
        self.log_likelihood_ = float(self._log_likelihood(np.array([r, alpha, a, b]), data)[0])
        self.n_customers_ = data.n
        return self

    def _negative_log_likelihood(
        self, log_params: FloatArray, data: _Patterns, penalizer: float
    ) -> tuple[float, FloatArray]:
        """Penalised mean negative log-likelihood and its gradient in log-parameters."""
        params = np.exp(log_params)
        ll, grad = self._log_likelihood(params, data)
        n = data.n
        value = -ll / n + penalizer * np.sum(params**2)
        grad_params = -grad / n + 2.0 * penalizer * params
        return float(value), grad_params * params

    def _patterns(self, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray) -> _Patterns:
        (x, tx, T), w = collapse_rows([x, tx, T], w)
        return _Patterns.build(x, tx, T, w, self._second_term_without_repeat)

    def _log_likelihood(self, params: FloatArray, d: _Patterns) -> tuple[float, FloatArray]:
        """Total log-likelihood and its gradient in ``(r, alpha, a, b)``.

        Per customer, ``LL = C + A1 + ln(1 + exp(A2 - A1))`` with
        ``C = ln G(r + x) - ln G(r) + r ln(alpha) - ln B(a, b)``: [1]_ eq. (6) in log form.
        The share of the second term, ``exp(A2) / (exp(A1) + exp(A2))``, weights the
        gradient of ``A2`` against that of ``A1``.
        """
        r, alpha, a, b = params
        k = self._shift
        xu, wx, has2 = d.xu, d.wx, d.has2
        log_alpha = np.log(alpha)
        common = gammaln(r + xu) - gammaln(r) + r * log_alpha - betaln(a, b)
        beta1 = betaln(a, b + xu + k)
        log_age = np.log(alpha + d.tu)
        inv_age = 1.0 / (alpha + d.tu)
        w_rx_t = r * d.wt + d.wxt  # sum of w * (r + x) per distinct T
        ll = weighted_sum(wx, common + beta1) - weighted_sum(w_rx_t, log_age)

        # Second term: diff = A2 - A1 = [ln B(a+1, b+x+k-1) - ln B(a, b+x+k)]
        #                               + (r + x) [ln(alpha + T) - ln(alpha + t_x)].
        gap = np.zeros_like(xu)
        gap[has2] = betaln(a + 1, b + xu[has2] + k - 1) - beta1[has2]
        log_rec = np.log(alpha + d.txu)
        log_ratio = log_age[d.ti2] - log_rec[d.ri2]
        rx = r + d.x2
        diff = gap[d.xi2] + rx * log_ratio
        small = np.exp(-np.abs(diff))
        ll += weighted_sum(d.w2, np.maximum(diff, 0.0) + np.log1p(small))
        share = np.where(diff > 0, 1.0, small) / (1.0 + small)
        ww2 = d.w2 * share
        ww2_by_x = np.bincount(d.xi2, weights=ww2, minlength=len(xu))
        inv_gap = 1.0 / (alpha + d.txu)[d.ri2] - inv_age[d.ti2]

        psi_abx = digamma(a + b + xu + k)
        d_r = (
            weighted_sum(wx, digamma(r + xu) - digamma(r) + log_alpha)
            - weighted_sum(d.wt, log_age)
            + weighted_sum(ww2, log_ratio)
        )
        d_alpha = d.n * r / alpha - weighted_sum(w_rx_t, inv_age) - weighted_sum(ww2 * rx, inv_gap)
        d_a = d.n * digamma(a + b) - weighted_sum(wx, psi_abx) + ww2_by_x.sum() / a
        d_b = (
            d.n * (digamma(a + b) - digamma(b))
            + weighted_sum(wx, digamma(b + xu + k) - psi_abx)
            - weighted_sum(ww2_by_x[has2], 1.0 / (b + xu[has2] + k - 1))
        )
        return float(ll), np.array([d_r, d_alpha, d_a, d_b])

    # -- predictions -------------------------------------------------------------------------

    def _fitted(self) -> tuple[float, float, float, float]:
        self._check_is_fitted()
        return tuple(self.params_[name] for name in PARAM_NAMES)  # type: ignore[return-value]

    def _log_odds_dead(self, x: FloatArray, tx: FloatArray, age: FloatArray) -> FloatArray:
        r, alpha, a, b = self._fitted()
        k = self._shift
        has2 = (x > 0) | self._second_term_without_repeat
        b_term = np.where(has2, b + x + k - 1, 1.0)
        log_odds = np.log(a) - np.log(b_term) + (r + x) * (np.log(alpha + age) - np.log(alpha + tx))
        return np.where(has2, log_odds, -np.inf)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Return the probability that each customer is still alive at ``T``.

        ``P(alive) = 1 / (1 + delta * a / (b + x + k - 1) * ((alpha + T) / (alpha + t_x))^(r+x))``,
        [3]_; for BG/NBD ``delta = 0`` when ``x = 0``, so one-time buyers are alive.

        Parameters
        ----------
        frequency, recency, T : array-like
            The customers' summary, as in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            One probability per customer.
        """
        x, tx, age = check_rfm(frequency, recency, T)
        return expit(-self._log_odds_dead(x, tx, age))

    def predict_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Return the expected number of purchases in the next ``t`` periods of each customer.

        ``E[Y(t) | x, t_x, T]`` of [1]_ eq. (10). The product
        ``((alpha + T) / (alpha + T + t))^(r + x) * 2F1(r + x, b + x; a + b + x - 1; z)`` is
        evaluated after Euler's transformation as
        ``(1 - z)^(a - 1) * 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z)``, which stays finite
        for large ``x`` and ``t`` ([2]_).

        Parameters
        ----------
        t : float or array-like
            Horizon, in the time unit of ``T``; a scalar or one value per customer.
        frequency, recency, T : array-like
            The customers' summary, as in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            Expected number of purchases per customer.
        """
        r, alpha, a, b = self._fitted()
        a = _away_from_one(a)
        x, tx, age = check_rfm(frequency, recency, T)
        horizon = _check_horizon(t, len(x))
        k = self._shift
        c = a + b + x + k - 1
        z = horizon / (alpha + age + horizon)
        tail = (1 - z) ** (a - 1) * _hyp2f1(a + b + k - 1 - r, a - 1, c, z)
        expected_if_alive = c / (a - 1) * (1 - tail)
        return expected_if_alive * expit(-self._log_odds_dead(x, tx, age))

    def p_purchase(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Return the probability that each customer buys at least once in the next ``t``.

        A customer alive at ``T`` buys at the Poisson rate ``lambda`` until the next purchase
        (dropping out happens only at a purchase, or for MBG/NBD right after the first one),
        and given the history and being alive ``lambda ~ Gamma(r + x, alpha + T)``, so

        ``P(Y(t) > 0) = P(alive) * [1 - ((alpha + T) / (alpha + T + t))^(r + x)]``.

        Parameters
        ----------
        t : float or array-like
            Horizon, in the time unit of ``T``; a scalar or one value per customer.
        frequency, recency, T : array-like
            The customers' summary, as in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            One probability per customer.
        """
        r, alpha, _, _ = self._fitted()
        x, tx, age = check_rfm(frequency, recency, T)
        horizon = _check_horizon(t, len(x))
        alive = expit(-self._log_odds_dead(x, tx, age))
        # -expm1 keeps precision for short horizons, where the bracket is close to 0.
        return alive * -np.expm1(-(r + x) * np.log1p(horizon / (alpha + age)))

    def median_time_to_next_purchase(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Return the time after ``T`` by which each customer has even odds of having bought.

        The ``t`` solving ``p_purchase(t) = 1/2`` (:meth:`p_purchase`):
        ``t = (alpha + T) * [(1 - 1 / (2 P(alive)))^(-1 / (r + x)) - 1]``. It exists only
        when ``P(alive) > 1/2``: a customer more likely lost than not gets ``inf``.

        Parameters
        ----------
        frequency, recency, T : array-like
            The customers' summary, as in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            Median time to the next purchase, in the time unit of ``T``; ``inf`` where the
            probability of another purchase never reaches one half.
        """
        r, alpha, _, _ = self._fitted()
        x, tx, age = check_rfm(frequency, recency, T)
        alive = expit(-self._log_odds_dead(x, tx, age))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            exponent = -np.log1p(-0.5 / alive) / (r + x)
            median = (alpha + age) * np.expm1(exponent)
        return np.where(alive > 0.5, median, np.inf)

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """Return the expected number of repeat purchases of a new customer in ``t`` periods.

        ``E[X(t)]`` of [1]_ eq. (9), with the same Euler transformation as
        :meth:`predict_purchases`.

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in the time unit of the fitted ``T``.

        Returns
        -------
        numpy.ndarray
            Expected number of repeat purchases for each ``t``.
        """
        r, alpha, a, b = self._fitted()
        a = _away_from_one(a)
        horizon = _check_horizon(t, None)
        k = self._shift
        c = a + b + k - 1
        z = horizon / (alpha + horizon)
        tail = (1 - z) ** (a - 1) * _hyp2f1(c - r, a - 1, c, z)
        return self._new_customer_factor(a, b) * (1 - tail)

    @staticmethod
    def _new_customer_factor(a: float, b: float) -> float:
        return (a + b - 1) / (a - 1)


def _away_from_one(a: float) -> float:
    # The expectations divide (1 - 2F1 term) by (a - 1); their limit at a = 1 is finite. At
    # 1e-6 from 1 both the shift and hyp2f1's rounding error, divided by (a - 1), stay ~1e-6.
    return a if abs(a - 1.0) >= 1e-6 else 1.0 + 1e-6


def _hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    """Gauss's 2F1 for ``0 <= z < 1``, summing the series where SciPy gives up.

    SciPy returns NaN for some huge parameters (for example a fit on a single customer, where
    ``r`` runs to 1e9) although the series converges quickly there.
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c, z)))
    value = np.asarray(hyp2f1(a, b, c, z), dtype=np.float64)
    bad = ~np.isfinite(value)
    if bad.any():
        value = value.copy()
        value[bad] = _hyp2f1_series(a[bad], b[bad], c[bad], z[bad])
    return value


def _hyp2f1_series(a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    total = np.ones_like(z)
    term = np.ones_like(z)
    for n in range(10_000):
        term = term * (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total = total + term
        if np.all(np.abs(term) <= 1e-15 * np.abs(total)):
            return total
    return np.where(np.abs(term) <= 1e-10 * np.abs(total), total, np.nan)


def _check_horizon(t: ArrayLike, n: int | None) -> FloatArray:
    horizon = as_float_array(t, "t")
    raise_problems(check_arrays({"t": horizon}, non_negative=("t",)))
    if n is not None and len(horizon) not in (1, n):
        raise UserInputError(
            f"t must be a scalar or have one value per customer ({n}). "
            f"Got {len(horizon)} values instead."
        )
    return horizon


class BetaGeoModel(_BetaGeoFamily):
    """BG/NBD model of repeat purchasing ([1]_).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on ``(r, alpha, a, b)`` added to the mean negative log-likelihood, as in
        lifetimes' ``penalizer_coef``; small values (0.001-0.1) stabilise fits on thin data.
    max_iter : int, default 1000
        Maximum number of L-BFGS-B iterations.

    Attributes
    ----------
    params_ : dict of str to float
        Fitted ``r``, ``alpha`` (in the time unit of ``T``), ``a`` and ``b``.
    log_likelihood_ : float
        Total log-likelihood of the training customers at ``params_`` (without the penalty).
    n_customers_ : float
        Number of customers fitted (sum of the weights).
    n_iter_ : int
        Iterations run by the optimiser.
    converged_ : bool
        Whether the optimiser stopped at a stationary point.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting Your Customers" the
       Easy Way: An Alternative to the Pareto/NBD Model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> model = BetaGeoModel().fit(frequency=[0, 2, 1, 5], recency=[0.0, 20.0, 3.0, 30.0],
    ...                            T=[30.0, 35.0, 40.0, 38.0])
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> float(model.p_alive([0], [0.0], [30.0])[0])
    1.0
    """

    def __init__(self, penalizer: float = 0.0, max_iter: int = 1000) -> None:
        super().__init__(penalizer=penalizer, max_iter=max_iter)
