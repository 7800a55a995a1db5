"""Seasonal baselines: an expected value and a prediction interval for every point of a series.

A daily series of two years or more is decomposed in three robust steps, all with statsmodels:
the yearly pattern from a smooth curve fitted with Tukey's biweight on the weekly medians (an
STL of period 365 on daily points costs seconds per series and, with two or three years, its
cycle-subseries of two or three points cannot be robust), the trend and the weekly pattern
from an STL of period 7 on what is left, and the retail calendar (public holidays, Easter,
Mother's Day, Black Friday, the sales) by a robust regression (Huber) of the remainder on
the calendar's regressors. Robust fitting gives past anomalies almost no weight, so they do
not become the new normal. Shorter series fall back to fewer steps and say which
(``method``): ``stl_weekly`` from four weeks, ``median`` below.

Counts and amounts are modelled on a log scale, where weekly and yearly effects multiply;
ratios are modelled as they are. The interval is expected ± ``threshold`` standard deviations
of the residuals, outliers left out, one per week day (a quiet Sunday is noisier on a log
scale than a busy Saturday) and widened for the degrees of freedom the smoothers use.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.seasonal import STL

YEARLY_DAYS = 2 * 52 * 7  # two yearly cycles of weekly means, as STL needs
WEEKLY_DAYS = 28
YEARLY_WEEKS = 2 * 52
WEEKLY_MIN_WEEKS = 8
# Wide enough that a closure of a few weeks is an outlier to the trend, not part of it.
TREND_DAYS = 91
MAD_SCALE = 1.4826
# Robustness passes of STL (statsmodels' default is 15): the weights settle in a few, and
# each pass costs as much as a fit.
ROBUST_ITERATIONS = 5
# Reweighting passes of the robust regressions: the weights of the clear outliers are near 0
# after a few, and each pass costs a least-squares fit.
ROBUST_ITERATIONS_RLM = 8
# Fourier pairs of the yearly pattern: resolves features of about three weeks (Christmas).
YEARLY_HARMONICS = 10
# A weekly pattern is smoothed over this many weeks: it drifts slowly, and a shorter window
# fits the noise and narrows the intervals.
SEASONAL_CYCLES = 21
# Residuals beyond this many robust deviations are anomalies of the past, left out of the fit.
OUTLIER_SIGMAS = 3.5
# The smoothers use up about this share of the degrees of freedom (two per loess window, for
# the weekly pattern and the trend): residuals are that much narrower than the noise.
SMOOTHER_SHARE = 2 / SEASONAL_CYCLES + 2 / TREND_DAYS


@dataclass(frozen=True)
class Baseline:
    """The fit of one series: expected values, robust residual scale, method, on which scale."""

    expected: np.ndarray  # on the model scale
    sigma: np.ndarray  # residual scale of each point
    method: str
    log: bool

    def to_values(self, model_values: np.ndarray) -> np.ndarray:
        return np.expm1(model_values) if self.log else model_values


def robust_sigma(residuals: np.ndarray) -> float:
    r = residuals[np.isfinite(residuals)]
    if len(r) == 0:
        return np.nan
    return float(MAD_SCALE * np.median(np.abs(r - np.median(r))))


def _stl(
    y: np.ndarray,
    period: int,
    trend: int | None = None,
    seasonal_deg: int = 1,
    robust: bool = True,
):
    if trend is not None:
        trend = max(trend, period + 1 + (period % 2 == 0))
        trend += trend % 2 == 0
    seasonal = SEASONAL_CYCLES if period == 7 else 7
    stl = STL(
        y, period=period, seasonal=seasonal, robust=robust, trend=trend, seasonal_deg=seasonal_deg
    )
    return stl.fit(outer_iter=ROBUST_ITERATIONS if robust else None)


def _yearly_from_weeks(y: np.ndarray, days: pd.DatetimeIndex) -> np.ndarray:
    """The yearly pattern of a daily series, fitted on its weekly medians, back on days.

    Medians, so that a public holiday closed every year does not lower its whole week; a
    smooth curve (``YEARLY_HARMONICS`` Fourier pairs, beside a quadratic trend) fitted with
    Tukey's biweight, because with two or three years a week's own values cannot tell an
    anomaly from the season, while the rest of the curve can.
    """
    week = (days - days[0]).days // 7
    medians = pd.Series(y).groupby(week).median().to_numpy()
    t = np.arange(len(medians)) * 7 + 3.0
    yearly = _harmonics(t)
    trend = np.column_stack([np.ones_like(t), t / 365.25, (t / 365.25) ** 2])
    x = np.hstack([trend, yearly])
    if not robust_sigma(medians) > 0:
        return np.zeros(len(y))
    fit = sm.RLM(medians, x, M=sm.robust.norms.TukeyBiweight()).fit(maxiter=ROBUST_ITERATIONS_RLM)
    day_t = (days - days[0]).days.to_numpy(float)
    return _harmonics(day_t) @ fit.params[trend.shape[1] :]


def _harmonics(t: np.ndarray) -> np.ndarray:
    angle = 2 * np.pi * np.outer(t, np.arange(1, YEARLY_HARMONICS + 1)) / 365.25
    return np.hstack([np.sin(angle), np.cos(angle)])


def _calendar_effect(residual: np.ndarray, calendar: pd.DataFrame | None) -> np.ndarray:
    """Robust (Huber) regression of what the seasons leave on the calendar's regressors."""
    if calendar is None or calendar.shape[1] == 0:
        return np.zeros(len(residual))
    x = calendar.to_numpy(float)
    used = x.sum(axis=0) > 0
    if not used.any():
        return np.zeros(len(residual))
    x = x[:, used]
    ok = np.isfinite(residual)
    if not robust_sigma(residual[ok]) > 0:  # a constant series: nothing to regress
        return np.zeros(len(residual))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = sm.RLM(residual[ok], x[ok], M=sm.robust.norms.HuberT()).fit(
            maxiter=ROBUST_ITERATIONS_RLM
        )
    return x @ fit.params


def _outliers(y: np.ndarray, days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Days far from the median of the same week day over five weeks around them, and it.

    A cheap robust reference: a closure of up to two weeks, a spike or a holiday does not move
    it, while the seasons, which change over months, do.
    """
    reference = (
        pd.Series(y)
        .groupby(days.weekday)
        .transform(lambda s: s.rolling(5, center=True, min_periods=3).median())
        .to_numpy()
    )
    reference = np.where(np.isfinite(reference), reference, y)
    residual = y - reference
    return np.abs(residual) > OUTLIER_SIGMAS * robust_sigma(residual), reference


def _seasons(y: np.ndarray, days: pd.DatetimeIndex) -> tuple[np.ndarray, str]:
    """Yearly pattern (from two years) + trend + weekly pattern of a daily series."""
    yearly, method = np.zeros(len(y)), "stl_weekly"
    if len(y) >= YEARLY_DAYS:
        yearly, method = _yearly_from_weeks(y, days), "stl_yearly_weekly"
    fit = _stl(y - yearly, 7, trend=TREND_DAYS, robust=False)
    return yearly + fit.trend + fit.seasonal, method


def fit_daily(
    values: np.ndarray, days: pd.DatetimeIndex, calendar: pd.DataFrame | None, *, log: bool
) -> Baseline:
    """The baseline of a daily series.

    The outliers (past anomalies, and the calendar's days before its regression) are found
    against a robust reference and replaced by it for the seasons; the calendar's effects are then
    fitted on the observed values. (A robust STL does the first step too, at five times the
    cost, and leaves its residuals too narrow for an honest interval.)

    Parameters
    ----------
    values : numpy.ndarray
        Observed values (NaN where undefined, e.g. a ratio without a denominator).
    days : pandas.DatetimeIndex
        Their consecutive days.
    calendar : pandas.DataFrame or None
        The calendar regressors of ``days`` (``calendar_regressors``).
    log : bool
        Model ``log1p`` of the values (counts and amounts).

    Returns
    -------
    Baseline
    """
    y = np.log1p(np.maximum(values, 0)) if log else values.astype(float)
    filled = pd.Series(y).interpolate(limit_direction="both").fillna(0).to_numpy()
    n = len(y)
    if n < WEEKLY_DAYS:
        center = np.nanmedian(y) if np.isfinite(y).any() else 0.0
        expected = np.full(n, center)
        return Baseline(expected, np.full(n, robust_sigma(y - expected)), "median", log)
    outlier, reference = _outliers(filled, days)
    seasons, method = _seasons(np.where(outlier, reference, filled), days)
    expected = seasons + _calendar_effect(filled - seasons, calendar)
    residual = pd.Series(np.where(outlier, np.nan, y - expected))
    # One scale per week day: on a log scale a quiet Sunday is noisier than a busy Saturday.
    by_day = residual.groupby(days.weekday).transform("std").to_numpy()
    sigma = np.where(np.isfinite(by_day), by_day, residual.std()) / np.sqrt(1 - SMOOTHER_SHARE)
    return Baseline(expected, sigma, method, log)


def fit_weekly(
    values: np.ndarray, weeks: pd.DatetimeIndex, calendar: pd.DataFrame | None, *, log: bool
) -> Baseline:
    """The baseline of a weekly series: trend, yearly curve and calendar; the median if short.

    From two years, a quadratic trend, the yearly curve and the calendar; below, the median.
    One regression with Tukey's biweight: a week far off the curve (a closure, a decline)
    gets no weight. The trend is kept stiff on purpose, so that a gradual decline of a few
    months stands out of it as a trend change instead of being followed; at the end of the
    history, though, the quadratic term bends to follow the last weeks.
    """
    y = np.log1p(np.maximum(values, 0)) if log else values.astype(float)
    ok = np.isfinite(y)
    if len(y) < YEARLY_WEEKS or ok.sum() < YEARLY_WEEKS:
        center = np.nanmedian(y) if ok.any() else 0.0
        expected = np.full(len(y), center)
        return Baseline(expected, np.full(len(y), robust_sigma(y - expected)), "median", log)
    t = (weeks - weeks[0]).days.to_numpy(float) + 3
    x = [np.ones_like(t), t / 365.25, (t / 365.25) ** 2, _harmonics(t)]
    if calendar is not None and calendar.shape[1]:
        # The share of each week's days in each calendar window.
        days = calendar.reindex(pd.date_range(weeks[0], weeks[-1] + pd.Timedelta(days=6)))
        shares = days.fillna(0).groupby(np.arange(len(days)) // 7).mean().to_numpy()
        x.append(shares[:, shares.sum(axis=0) > 0])
    x = np.column_stack(x)
    if not robust_sigma(y[ok]) > 0:  # a constant series
        expected = np.full(len(y), np.nanmedian(y))
        return Baseline(expected, np.zeros(len(y)), "median", log)
    fit = sm.RLM(y[ok], x[ok], M=sm.robust.norms.TukeyBiweight()).fit(maxiter=ROBUST_ITERATIONS_RLM)
    expected = x @ fit.params
    sigma = robust_sigma(y - expected) / np.sqrt(max(1 - x.shape[1] / ok.sum(), 0.5))
    return Baseline(expected, np.full(len(y), sigma), "robust_yearly", log)
