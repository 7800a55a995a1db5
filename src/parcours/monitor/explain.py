"""Explanation: which dimension values account for the gap of an overall incident.

For each dimension value of the same KPI over the incident's periods, its *share of the gap*
is (observed - expected of the value) / (observed - expected overall), and its *surprise* is
how much its weight in the total moved: the Jensen-Shannon term between its expected share
``p`` and observed share ``q`` (Bhagwan et al., "Adtributor", NSDI 2014). A store closed for
ten days carries the whole gap of the store channel and of its region too, but it is the
store whose weight collapsed the most: values are ranked by surprise among those carrying at
least ``MIN_SHARE`` of the gap, so the most specific cause comes first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcours.monitor.series import OVERALL, SUMS
from parcours.schema import DIMENSION, DIMENSION_VALUE, GRAIN, KPI, PERIOD

MIN_SHARE = 0.2
FINEST_FIRST = ["store", "family", "region", "source", "channel"]
SHOWN = 3


def _surprise(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(p / m), 0.0)
        b = np.where(q > 0, q * np.log(q / m), 0.0)
    return 0.5 * (a + b)


def contributions(scored: pd.DataFrame, incident: pd.Series) -> pd.DataFrame:
    """Every dimension value's share of an overall incident's gap and its surprise, ranked.

    Parameters
    ----------
    scored : pandas.DataFrame
        The scored series (``score_series``).
    incident : pandas.Series
        One incident of an overall series (dimension ``all``) of a KPI that adds up.

    Returns
    -------
    pandas.DataFrame
        dimension, dimension_value, observed, expected, share, surprise; ranked, the
        explaining values (share >= MIN_SHARE) first.
    """
    s = scored[
        (scored[KPI] == incident[KPI])
        & (scored[GRAIN] == incident[GRAIN])
        & (scored[DIMENSION] != OVERALL)
        & (scored[PERIOD] >= pd.Timestamp(incident["start"]))
        & (scored[PERIOD] <= pd.Timestamp(incident["end"]))
    ]
    if s.empty:
        return pd.DataFrame()
    parts = (
        s.groupby([DIMENSION, DIMENSION_VALUE])[["value", "expected"]]
        .sum()
        .rename(columns={"value": "observed"})
        .reset_index()
    )
    gap = incident["observed"] - incident["expected"]
    totals = parts.groupby(DIMENSION)[["observed", "expected"]].transform("sum")
    p = parts["expected"] / totals["expected"].where(totals["expected"] > 0)
    q = parts["observed"] / totals["observed"].where(totals["observed"] > 0)
    parts["share"] = (parts["observed"] - parts["expected"]) / gap if gap else 0.0
    parts["surprise"] = _surprise(p.fillna(0).to_numpy(), q.fillna(0).to_numpy())
    parts["explains"] = parts["share"] >= MIN_SHARE
    # Equal surprise (a store alone in its region) goes to the finer dimension.
    parts["_tie"] = np.round(parts["surprise"], 12)
    parts["_fine"] = -parts[DIMENSION].map(FINEST_FIRST.index).fillna(len(FINEST_FIRST))
    ranked = parts.sort_values(["explains", "_tie", "_fine"], ascending=False)
    return ranked.drop(columns=["_tie", "_fine"]).reset_index(drop=True)


def explain(scored: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """``found`` with explanation, top_dimension, top_value and top_share filled in.

    An overall incident of a KPI that adds up is explained by its dimension values; an
    incident of one dimension value names itself.
    """
    found = found.copy()
    texts, dims, values, shares = [], [], [], []
    for _, incident in found.iterrows():
        if incident[DIMENSION] != OVERALL:
            texts.append(None)
            dims.append(incident[DIMENSION])
            values.append(incident[DIMENSION_VALUE])
            shares.append(1.0)
            continue
        ranked = contributions(scored, incident) if incident[KPI] in SUMS else pd.DataFrame()
        top = ranked[ranked["explains"]].head(SHOWN) if len(ranked) else ranked
        if top.empty:
            texts.append(None)
            dims.append(None)
            values.append(None)
            shares.append(None)
            continue
        texts.append(
            "; ".join(
                f"{r[DIMENSION]} {r[DIMENSION_VALUE]}: {r['share']:.0%} of the gap"
                for _, r in top.iterrows()
            )
        )
        dims.append(top.iloc[0][DIMENSION])
        values.append(top.iloc[0][DIMENSION_VALUE])
        shares.append(float(top.iloc[0]["share"]))
    return found.assign(explanation=texts, top_dimension=dims, top_value=values, top_share=shares)
