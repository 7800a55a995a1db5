"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

MBG/NBD changes one assumption of BG/NBD: a customer may also drop out right after the first
purchase, so one-time buyers are not certain to be alive and ``p_alive`` is below 1 for them.

References
----------
.. [1] Batislam, E. P., Denizel, M. and Filiztekin, A. (2007). Empirical validation and
   comparison of models for customer base analysis. *International Journal of Research in
   Marketing*, 24(3), 201-209.
"""

from __future__ import annotations

from parcours.models.bgnbd import _BetaGeoFamily


class ModifiedBetaGeoModel(_BetaGeoFamily):
    """MBG/NBD model of repeat purchasing ([1]_); same API as :class:`BetaGeoModel`.

    The likelihood per customer is
    ``B(a, b + x + 1) / B(a, b) * G(r + x) alpha^r / (G(r) (alpha + T)^(r + x))
    + B(a + 1, b + x) / B(a, b) * G(r + x) alpha^r / (G(r) (alpha + t_x)^(r + x))``,
    with the second term present for every customer, including one-time buyers.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on ``(r, alpha, a, b)`` added to the mean negative log-likelihood.
    max_iter : int, default 1000
        Maximum number of L-BFGS-B iterations.

    Attributes
    ----------
    params_ : dict of str to float
        Fitted ``r``, ``alpha`` (in the time unit of ``T``), ``a`` and ``b``.
    log_likelihood_ : float
        Total log-likelihood of the training customers at ``params_``.
    n_customers_ : float
        Number of customers fitted (sum of the weights).
    n_iter_ : int
        Iterations run by the optimiser.
    converged_ : bool
        Whether the optimiser stopped at a stationary point.

    Notes
    -----
    ``predict_purchases`` is ``(a + b + x) / (a - 1) * [1 - ((alpha + T) / (alpha + T + t))^(r+x)
    2F1(r + x, b + x + 1; a + b + x; t / (alpha + T + t))] * P(alive)``, ``p_alive`` is
    ``1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x))^(r + x))`` and the expected number
    of repeat purchases of a new customer is
    ``b / (a - 1) * [1 - (alpha / (alpha + t))^r 2F1(r, b + 1; a + b; t / (alpha + t))]``.

    References
    ----------
    .. [1] Batislam, E. P., Denizel, M. and Filiztekin, A. (2007). Empirical validation and
       comparison of models for customer base analysis. *International Journal of Research in
       Marketing*, 24(3), 201-209.
    """

    _shift = 1
    _second_term_without_repeat = True

    def __init__(self, penalizer: float = 0.0, max_iter: int = 1000) -> None:
        super().__init__(penalizer=penalizer, max_iter=max_iter)

    @staticmethod
    def _new_customer_factor(a: float, b: float) -> float:
        # A new customer may drop out before the first repeat purchase: E[(1 - p) / p] under
        # Beta(a, b) is b / (a - 1), where BG/NBD has E[1 / p] = (a + b - 1) / (a - 1).
        return b / (a - 1)
