"""Draw customer summaries from the BG/NBD and MBG/NBD processes, with known parameters.

Used to check parameter recovery and to benchmark on millions of customers; the demo data
generator can use it too.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from parcours.models._estimator import FloatArray


def simulate_bgnbd(
    n_customers: int,
    T: ArrayLike,
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    modified: bool = False,
    seed: int | np.random.Generator | None = None,
) -> dict[str, FloatArray]:
    """Simulate ``frequency``, ``recency`` and ``T`` of customers from the BG/NBD process.

    Each customer gets ``lambda ~ Gamma(r, alpha)`` and ``p ~ Beta(a, b)``. Without dropout
    they would make ``N ~ Poisson(lambda T)`` repeat purchases; they drop out after repeat
    purchase ``J ~ Geometric(p)`` (MBG/NBD: ``J - 1``, so possibly right after the first
    purchase). The summary is ``x = min(N, J)`` and, given ``N``, the ``x``-th purchase time is
    the ``x``-th of ``N`` uniform order statistics on ``[0, T]``, a ``T * Beta(x, N - x + 1)``
    draw, so no purchase time is simulated one by one.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    T : float or array-like
        Observation length of each customer (scalar or ``n_customers`` values).
    r, alpha, a, b : float
        Model parameters, ``alpha`` in the time unit of ``T``.
    modified : bool, default False
        Draw from MBG/NBD instead of BG/NBD.
    seed : int or numpy.random.Generator, optional
        Random seed or generator.

    Returns
    -------
    dict of str to numpy.ndarray
        ``frequency``, ``recency``, ``T``, and the latent ``lambda``, ``p`` and ``alive``
        (1.0 when the customer has not dropped out by ``T``).

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting Your Customers" the
       Easy Way: An Alternative to the Pareto/NBD Model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> data = simulate_bgnbd(3, 52.0, r=0.25, alpha=4.0, a=0.8, b=2.5, seed=1)
    >>> sorted(data)
    ['T', 'alive', 'frequency', 'lambda', 'p', 'recency']
    """
    rng = np.random.default_rng(seed)
    age = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, size=n_customers)
    # A Beta draw can underflow to 0 for small a; geometric() needs p > 0.
    dropout = np.clip(rng.beta(a, b, size=n_customers), 1e-12, 1.0)
    purchases = rng.poisson(rate * age)
    last_before_dropout = rng.geometric(dropout) - (1 if modified else 0)
    x = np.minimum(purchases, last_before_dropout)
    repeat = x > 0
    order_stat = np.zeros(n_customers)
    order_stat[repeat] = rng.beta(x[repeat], purchases[repeat] - x[repeat] + 1)
    return {
        "frequency": x.astype(np.float64),
        "recency": age * order_stat,
        "T": age,
        "lambda": rate,
        "p": dropout,
        "alive": (last_before_dropout > purchases).astype(np.float64),
    }
