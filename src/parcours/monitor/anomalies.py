"""Anomalies: points beyond their interval, grouped into incidents of consecutive points.

A point is anomalous when it is more than ``threshold`` robust standard deviations from its
baseline *and* at least ``min_relative_change`` away from it (a tiny series can be many
deviations off by one order). Consecutive anomalous points on the same side form one
incident: a spike or a drop when short, a level shift when it lasts, a trend change when its
gap keeps growing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from parcours.monitor.baseline import Baseline, fit_daily, fit_weekly
from parcours.monitor.series import SUMS, VOLUME
from parcours.schema import (
    DIMENSION,
    DIMENSION_VALUE,
    GRAIN,
    INCIDENT_ID,
    KPI,
    MONITOR_ANOMALIES,
    PERIOD,
)

SHORT_PERIODS = 2
# Amounts and counts are modelled on a log scale; so is the average basket, as skewed.
LOG_KPIS = (*SUMS, "average_basket")
MIN_DENOMINATOR = 50
RATES = ("returns_rate",)
MIN_VOLUME = 10
VOLUME_WINDOW = {"day": 29, "week": 5}
# A baseline is least sure at a series' start; its first periods are not judged.
BURN_IN = {"day": 14, "week": 8}
# Spearman correlation of the gap with time above which a long incident is a trend change.
TREND_CORRELATION = 0.6
SERIES_KEYS = [KPI, DIMENSION, DIMENSION_VALUE, GRAIN]
# The columns of an incident before its explanation.
INCIDENT_COLUMNS = MONITOR_ANOMALIES.column_names[
    : MONITOR_ANOMALIES.column_names.index("kind") + 1
]


def score_series(
    series: pd.DataFrame, calendar: pd.DataFrame, threshold: float, min_relative: float
) -> pd.DataFrame:
    """Fit every series and add expected, lower, upper, score, method and anomalous.

    Parameters
    ----------
    series : pandas.DataFrame
        Dense KPI series (``kpi_series``).
    calendar : pandas.DataFrame
        Calendar regressors of every day of the history (``calendar_regressors``).
    threshold : float
        Robust standard deviations beyond which a point is anomalous.
    min_relative : float
        Smallest relative gap that counts.

    Returns
    -------
    pandas.DataFrame
        The series with their baselines; ``direction`` is +1 or -1 on anomalous points, 0
        elsewhere.
    """
    out = []
    # Many small fits: one BLAS thread each is many times faster than oversubscribed ones.
    with threadpool_limits(limits=1):
        for (kpi, _, _, grain), s in series.groupby(SERIES_KEYS, sort=False):
            out.append(_scored(s, kpi, grain, calendar, threshold, min_relative))
    return pd.concat(out, ignore_index=True)


def _scored(s, kpi, grain, calendar, threshold, min_relative) -> pd.DataFrame:
    days = pd.DatetimeIndex(s[PERIOD])
    values = s["value"].to_numpy(float)
    log = kpi in LOG_KPIS
    if grain == "day":
        fit = fit_daily(values, days, calendar.reindex(days).fillna(0), log=log)
    else:
        fit = fit_weekly(values, days, calendar, log=log)
    # The usual number of orders around each point: a point is judged only with enough of
    # them, and never more precise than Poisson noise on that many orders allows.
    usual = s[VOLUME].rolling(VOLUME_WINDOW[grain], center=True, min_periods=1).median()
    usual = usual.to_numpy()
    scores = _scores(values, fit, threshold, min_relative, grain, usual if log else None)
    enough = usual >= MIN_VOLUME
    if kpi not in SUMS:
        # A ratio over a handful of orders swings by chance.
        enough &= s["denominator"].to_numpy() >= MIN_DENOMINATOR
    if kpi in RATES:
        # A rate is at least as noisy as a binomial proportion over its denominator.
        p = np.clip(fit.expected, 1e-3, 1 - 1e-3)
        binomial = np.sqrt(p * (1 - p) / np.maximum(s["denominator"].to_numpy(), 1))
        fit = dataclasses.replace(fit, sigma=np.fmax(fit.sigma, binomial))
        scores = _scores(values, fit, threshold, min_relative, grain)
    scores["direction"] = np.where(enough, scores["direction"], 0)
    return s.assign(**scores)


def _scores(values, fit: Baseline, threshold, min_relative, grain, volume=None) -> dict:
    y = np.log1p(np.maximum(values, 0)) if fit.log else values
    # A flat series (sigma 0) still has a scale: that of the smallest relative change.
    floor = min_relative / max(threshold, 1) * (1 if fit.log else np.nanmean(np.abs(values)))
    sigma = np.fmax(np.nan_to_num(fit.sigma), max(np.nan_to_num(floor), 1e-9))
    if fit.log:
        # Counts are at least as noisy as Poisson's: sd of log(count) ~ 1/sqrt(count).
        sigma = np.fmax(sigma, 1 / np.sqrt(np.expm1(np.maximum(fit.expected, 0)) + 1))
    if volume is not None:
        sigma = np.fmax(sigma, 1 / np.sqrt(np.maximum(volume, 1)))
    score = (y - fit.expected) / sigma
    expected = fit.to_values(fit.expected)
    lower = fit.to_values(fit.expected - threshold * sigma)
    upper = fit.to_values(fit.expected + threshold * sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(np.abs(expected) > 0, (values - expected) / np.abs(expected), np.inf)
    judged = np.arange(len(values)) >= BURN_IN[grain]
    if grain == "week" and fit.method == "median":
        judged[:] = False  # without a yearly pattern, a week's season would read as anomaly
    anomalous = (
        judged
        & np.isfinite(score)
        & (np.abs(score) >= threshold)
        & (np.abs(relative) >= min_relative)
    )
    return {
        "expected": expected,
        "lower": lower if fit.log else np.minimum(lower, upper),
        "upper": upper,
        "score": score,
        "method": fit.method,
        "direction": np.where(anomalous, np.sign(score), 0).astype(int),
    }


def incident_id(kpi: str, dimension: str, value: str, grain: str, start: dt.date) -> str:
    """Stable id of an incident: its series and first period."""
    text = f"{kpi}|{dimension}|{value}|{grain}|{start.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _kind(gaps: np.ndarray, direction: int) -> str:
    """Spike or drop when short; trend change when the relative gap keeps growing."""
    if len(gaps) <= SHORT_PERIODS:
        return "spike" if direction > 0 else "drop"
    if np.ptp(np.abs(gaps)) < 1e-9:  # a constant gap: a closure, a stopped feed
        return "level_shift"
    growth = pd.Series(np.abs(gaps)).corr(pd.Series(np.arange(len(gaps))), method="spearman")
    return "trend_change" if growth >= TREND_CORRELATION else "level_shift"


def _severity(score: float, periods: int, relative: float) -> str:
    if abs(score) >= 8 or (periods >= 3 and abs(relative) >= 0.3):
        return "high"
    if abs(score) >= 6 or periods >= 2:
        return "medium"
    return "low"


def incidents(scored: pd.DataFrame) -> pd.DataFrame:
    """Consecutive anomalous points of one series, on the same side, as one incident each.

    Returns
    -------
    pandas.DataFrame
        One row per incident: series, start, end, periods, observed, expected, lower, upper,
        difference, relative, score, severity, kind.
    """
    rows = []
    flagged = scored[scored["direction"] != 0]
    for (kpi, dim, value, grain), s in flagged.groupby(SERIES_KEYS, sort=False):
        step = pd.Timedelta(days=1 if grain == "day" else 7)
        s = s.sort_values(PERIOD)
        new_run = (s[PERIOD].diff() != step) | (s["direction"].diff() != 0)
        for _, run in s.groupby(new_run.cumsum()):
            rows.append(_incident(kpi, dim, value, grain, run))
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=INCIDENT_COLUMNS)


def _incident(kpi: str, dim: str, value: str, grain: str, run: pd.DataFrame) -> dict:
    start, end = run[PERIOD].iloc[0].date(), run[PERIOD].iloc[-1].date()
    # Sums add up over the incident; a ratio is averaged.
    total = (lambda c: float(run[c].sum())) if kpi in SUMS else (lambda c: float(run[c].mean()))
    observed, expected = total("value"), total("expected")
    difference = observed - expected
    relative = difference / abs(expected) if expected else np.inf
    score = float(run["score"].abs().max() * np.sign(run["score"].iloc[0]))
    direction = int(run["direction"].iloc[0])
    return {
        INCIDENT_ID: incident_id(kpi, dim, value, grain, start),
        KPI: kpi,
        DIMENSION: dim,
        DIMENSION_VALUE: value,
        GRAIN: grain,
        "start": start,
        "end": end,
        "periods": len(run),
        "observed": observed,
        "expected": expected,
        "lower": total("lower"),
        "upper": total("upper"),
        "difference": difference,
        "relative": relative,
        "score": score,
        "severity": _severity(score, len(run), relative),
        "kind": _kind((run["value"] / run["expected"] - 1).to_numpy(), direction),
    }


def drop_covered_weeks(found: pd.DataFrame) -> pd.DataFrame:
    """Weekly incidents already told by a daily incident of the same series are left out."""
    if found.empty:
        return found
    daily = found[found[GRAIN] == "day"]
    keep = []
    for _, row in found.iterrows():
        if row[GRAIN] == "week":
            same = daily[
                (daily[KPI] == row[KPI])
                & (daily[DIMENSION] == row[DIMENSION])
                & (daily[DIMENSION_VALUE] == row[DIMENSION_VALUE])
                & (daily["start"] <= row["end"] + dt.timedelta(days=6))
                & (daily["end"] >= row["start"])
            ]
            keep.append(same.empty)
        else:
            keep.append(True)
    return found[keep].reset_index(drop=True)
