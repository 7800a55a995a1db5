"""Moments of truth: intervals with the customer as the unit, against statsmodels' GEE."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
import statsmodels.api as sm

from parcours.journeys.moments import compared_outcomes, moments_of_truth

# Deliveries (customer, outcome, followed by a purchase): customer c1 has four late
# deliveries and never came back, so the late outcome's events are far from independent.
DELIVERIES = [
    ("c1", "late", 0),
    ("c1", "late", 0),
    ("c1", "late", 0),
    ("c1", "late", 0),
    ("c2", "late", 1),
    ("c2", "on_time", 1),
    ("c3", "on_time", 1),
    ("c3", "on_time", 0),
    ("c4", "on_time", 1),
    ("c5", "on_time", 1),
    ("c5", "late", 0),
    ("c6", "on_time", 0),
    ("c7", "on_time", 1),
    ("c7", "on_time", 1),
]


def per_customer(ws, deliveries) -> object:
    d = pd.DataFrame(deliveries, columns=["customer_key", "outcome", "y"])
    g = d.groupby(["customer_key", "outcome"]).agg(n=("y", "size"), y=("y", "sum")).reset_index()
    g.insert(0, "touchpoint", "order_delivered")
    g = g.astype({"n": "int64", "y": "int64"})
    return ws.engine.from_arrow(pa.Table.from_pandas(g, preserve_index=False), "per_customer")


def test_interval_is_statsmodels_gee_with_customer_clusters(workspace):
    got = workspace.engine.execute(compared_outcomes(per_customer(workspace, DELIVERIES)))
    assert len(got) == 1
    row = got.iloc[0]
    # on_time is the most frequent outcome (8 against 6): the reference
    assert (row.outcome, row.reference) == ("late", "on_time")
    assert (row.events, row.repurchased) == (6, 1)
    assert (row.reference_events, row.reference_repurchased) == (8, 6)
    found = moments_of_truth(got, 90, 0.95).iloc[0]

    d = pd.DataFrame(DELIVERIES, columns=["customer", "outcome", "y"])
    x = sm.add_constant((d.outcome == "late").astype(float).to_numpy())
    fit = sm.GEE(
        d.y.to_numpy(dtype=float),
        x,
        groups=d.customer.to_numpy(),
        family=sm.families.Gaussian(),
        cov_struct=sm.cov_struct.Independence(),
    ).fit()
    low, high = fit.conf_int(alpha=0.05)[1]
    assert found.difference == pytest.approx(1 / 6 - 6 / 8)
    assert found.difference == pytest.approx(fit.params[1])
    assert found.ci_low == pytest.approx(low, rel=1e-6)
    assert found.ci_high == pytest.approx(high, rel=1e-6)
    assert found.significant == (high < 0 or low > 0)


def test_one_touchpoint_per_customer_gives_the_classic_wald_interval(workspace):
    alone = [(f"{c}-{i}", outcome, y) for i, (c, outcome, y) in enumerate(DELIVERIES)]
    got = workspace.engine.execute(compared_outcomes(per_customer(workspace, alone)))
    p1, p0 = 1 / 6, 6 / 8
    assert got.variance.iloc[0] == pytest.approx(p1 * (1 - p1) / 6 + p0 * (1 - p0) / 8)
    clustered = workspace.engine.execute(compared_outcomes(per_customer(workspace, DELIVERIES)))
    assert clustered.variance.iloc[0] != pytest.approx(got.variance.iloc[0])
