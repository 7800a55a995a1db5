"""The estimator contract shared by the customer-base models, and their input checks.

Private: users import the models from :mod:`parcours.models`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from sklearn.base import BaseEstimator

from parcours.errors import NotFittedError, UserInputError

FloatArray = NDArray[np.float64]

# Log-parameters are kept in [-30, 30] so that exp() never overflows and a degenerate
# data set (for example one customer) ends at a finite boundary instead of running off to inf.
_LOG_BOUND = 30.0


class ConvergenceWarning(UserWarning):
    """The optimiser stopped before the log-likelihood gradient vanished."""


class BaseModel(BaseEstimator):
    """Hyperparameters in ``__init__``, learned values ending in ``_``: scikit-learn's estimator.

    ``get_params``, ``set_params``, ``clone`` and the repr come from scikit-learn; an unknown
    parameter name raises :class:`UserInputError`, the error parcours raises for bad input.
    """

    def set_params(self, **params: Any) -> BaseModel:
        """Set hyperparameters; unknown names raise :class:`UserInputError`.

        Returns
        -------
        self
        """
        valid = self._get_param_names()
        for name in params:
            if name not in valid:
                raise UserInputError(
                    f"Invalid parameter {name!r} for {type(self).__name__}. "
                    f"Valid parameters are: {', '.join(valid)}."
                )
        return super().set_params(**params)

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this method."
            )

    def _check_hyperparameters(self) -> None:
        name = type(self).__name__
        penalizer = self.penalizer  # type: ignore[attr-defined]
        if (
            isinstance(penalizer, bool)
            or not isinstance(penalizer, int | float | np.floating | np.integer)
            or not np.isfinite(penalizer)
            or penalizer < 0
        ):
            raise UserInputError(
                f"The 'penalizer' parameter of {name} must be a float >= 0. "
                f"Got {penalizer!r} instead."
            )
        max_iter = self.max_iter  # type: ignore[attr-defined]
        if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
            raise UserInputError(
                f"The 'max_iter' parameter of {name} must be an int >= 1. Got {max_iter!r} instead."
            )


def as_float_array(value: ArrayLike, name: str) -> FloatArray:
    """Return ``value`` as a 1-D float array, or raise naming the argument."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise UserInputError(f"{name} must be numeric. Got {_describe(value)} instead.") from e
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise UserInputError(
            f"{name} must be one-dimensional. Got an array of shape {array.shape} instead."
        )
    return array


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def _first_bad(name: str, values: FloatArray, bad: NDArray[np.bool_], rule: str) -> str:
    index = int(np.flatnonzero(bad)[0])
    count = int(bad.sum())
    plural = "value" if count == 1 else "values"
    return (
        f"{name} must be {rule}. Got {count} {plural} that are not "
        f"(first at position {index}: {values[index]!r}) instead."
    )


def check_arrays(
    arrays: dict[str, FloatArray],
    *,
    non_negative: tuple[str, ...] = (),
    positive: tuple[str, ...] = (),
    integer: tuple[str, ...] = (),
) -> list[str]:
    """Check equal lengths, finiteness and simple value rules; return every problem found."""
    problems: list[str] = []
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}={n}" for name, n in lengths.items())
        return [
            f"frequency, recency, T and the other inputs must have the same length. "
            f"Got lengths {listed} instead."
        ]
    if next(iter(lengths.values())) == 0:
        return ["The inputs must hold at least one customer. Got empty arrays instead."]
    for name, a in arrays.items():
        finite = np.isfinite(a)
        if not finite.all():
            problems.append(_first_bad(name, a, ~finite, "finite (no NaN or infinity)"))
            continue
        if name in non_negative and (a < 0).any():
            problems.append(_first_bad(name, a, a < 0, ">= 0"))
        if name in positive and (a <= 0).any():
            problems.append(_first_bad(name, a, a <= 0, "> 0"))
        if name in integer and (a != np.round(a)).any():
            problems.append(_first_bad(name, a, a != np.round(a), "a whole number"))
    return problems


def raise_problems(problems: list[str]) -> None:
    """Raise one :class:`UserInputError` that lists every problem, or return if none."""
    if len(problems) == 1:
        raise UserInputError(problems[0])
    if problems:
        raise UserInputError(f"{len(problems)} problems: " + " | ".join(problems))


def check_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    """Return customer counts per row (ones by default), checked to be finite and >= 0."""
    if weights is None:
        return np.ones(n)
    w = as_float_array(weights, "weights")
    problems = check_arrays({"weights": w}, non_negative=("weights",))
    if not problems and len(w) != n:
        problems.append(
            f"weights must have one value per customer row ({n}). Got {len(w)} values instead."
        )
    if not problems and w.sum() <= 0:
        problems.append("weights must sum to more than 0. Got only zero weights instead.")
    raise_problems(problems)
    return w


def collapse_rows(
    columns: list[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray]:
    """Merge identical rows, adding up their weights; rows with weight 0 are dropped.

    The likelihoods only depend on the row values, so millions of customers with day-level
    summaries shrink to the distinct patterns (Fader & Hardie fit the CDNOW data this way).
    Rows are grouped by hashing (``pandas.factorize``), not sorting, to stay fast on millions.
    """
    keep = weights > 0
    if not keep.all():
        columns = [c[keep] for c in columns]
        weights = weights[keep]
    key = np.zeros(len(weights), dtype=np.int64)
    key_size = 1
    for column in columns:
        codes, uniques = pd.factorize(column)
        if key_size * len(uniques) >= 2**62:
            # Re-factorising brings the combined key below the row count, so it cannot overflow.
            key, key_uniques = pd.factorize(key)
            key_size = len(key_uniques)
        key = key * len(uniques) + codes
        key_size *= len(uniques)
    key, _ = pd.factorize(key)
    n_groups = int(key.max()) + 1 if len(key) else 0
    representative = np.empty(n_groups, dtype=np.int64)
    representative[key] = np.arange(len(key))
    group_weights = np.bincount(key, weights=weights, minlength=n_groups)
    return [c[representative] for c in columns], group_weights


def weighted_sum(weights: FloatArray, values: FloatArray) -> float:
    """Return ``sum(weights * values)``.

    Not ``weights @ values``: on small multi-core VMs a threaded BLAS dot costs milliseconds
    per call, a hundred times the plain sum, and the likelihoods call it a dozen times.
    """
    return float(np.sum(weights * values))


@functools.cache
def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _single_threaded_blas() -> AbstractContextManager[Any]:
    """Limit BLAS to one thread while optimising, when threadpoolctl is installed.

    L-BFGS-B makes many tiny BLAS calls; a threaded OpenBLAS hands each to its worker
    threads, which on a busy 2-core machine made a 5 ms CDNOW fit take 100 ms.
    """
    controller = _blas_controller()
    return controller.limit(limits=1, user_api="blas") if controller else nullcontext()


def maximise_log_likelihood(
    neg_objective: Callable[[FloatArray], tuple[float, FloatArray]],
    log_x0: FloatArray,
    max_iter: int,
    model_name: str,
    param_names: tuple[str, ...],
    bound_hint: str,
) -> tuple[FloatArray, int, bool]:
    """Minimise ``neg_objective`` (value and analytic gradient) over log-parameters.

    Returns the log-parameters, the iteration count and whether the optimiser converged to
    an interior stationary point. Otherwise a :class:`ConvergenceWarning` is emitted, as
    scikit-learn does: either the iterations ran out, or a parameter reached its bound
    (``exp(+-30)``), which means the data do not identify the model; ``bound_hint`` is
    appended to that warning.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(log_x0)
    with _single_threaded_blas():
        result = minimize(
            neg_objective,
            log_x0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
        )
    if not np.all(np.isfinite(result.x)):
        raise UserInputError(
            f"{model_name} could not be fitted: the log-likelihood is not finite for this data."
        )
    # L-BFGS-B ends with an "abnormal line search" once the objective is flat to machine
    # precision; that is convergence too when the gradient is tiny.
    grad = np.asarray(result.jac)
    at_bound = np.abs(result.x) >= _LOG_BOUND - 1e-6
    stationary = bool(result.success or np.max(np.abs(grad[~at_bound]), initial=0.0) < 1e-6)
    if at_bound.any():
        names = ", ".join(n for n, hit in zip(param_names, at_bound, strict=True) if hit)
        warnings.warn(
            f"{model_name}: {names} reached the optimiser's bound: the likelihood has no "
            "maximum at finite parameters for this data (typically too few or too similar "
            "customers); set penalizer > 0, for example 0.01." + bound_hint,
            ConvergenceWarning,
            stacklevel=3,
        )
    elif not stationary:
        warnings.warn(
            f"{model_name} did not converge after {result.nit} iterations "
            f"({result.message}); increase max_iter, set penalizer > 0 or check the data.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result.x, int(result.nit), stationary and not at_bound.any()
