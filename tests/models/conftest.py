"""CDNOW data for the published-result tests, read from the files lifetimes 0.11.3 ships.

lifetimes is a dev dependency only for its data: it is located with ``find_spec`` and never
imported (it does not import cleanly on every pandas/numpy/scipy combination).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CALIBRATION_END = pd.Timestamp("1997-09-30")
OBSERVATION_END = pd.Timestamp("1998-06-30")


@pytest.fixture(scope="session")
def cdnow_dir() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("lifetimes==0.11.3 (dev extra) is needed for its CDNOW data files")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_dir: Path) -> pd.DataFrame:
    """Fader & Hardie's calibration summary of the 2357-customer sample (weeks)."""
    return pd.read_csv(cdnow_dir / "cdnow_customers_summary.csv", index_col="ID")


@pytest.fixture(scope="session")
def cdnow_transactions(cdnow_dir: Path) -> pd.DataFrame:
    """CDNOW_master.txt rows of the 2357 sample customers, with their sample ID.

    CDNOW_sample.txt maps each sampled master ID to the sample ID used by the summary files.
    """
    master = pd.read_csv(
        cdnow_dir / "CDNOW_master.txt",
        sep=r"\s+",
        header=0,
        names=["master_id", "date", "cds", "dollars"],
        dtype={"master_id": "int64", "date": str},
    )
    sample = pd.read_csv(
        cdnow_dir / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "id", "date", "cds", "dollars"],
        dtype={"master_id": "int64", "id": "int64"},
    )
    ids = sample[["master_id", "id"]].drop_duplicates()
    rows = master.merge(ids, on="master_id", how="inner")
    rows["date"] = pd.to_datetime(rows["date"], format="%Y%m%d")
    return rows[["id", "date", "dollars"]]


@pytest.fixture(scope="session")
def cdnow_calibration(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    """Calibration summary (weeks 1-39) and holdout purchase days (weeks 40-78), with pandas.

    This is the independent computation the engine-built summary is checked against: orders
    are summed per customer and day, then counted and averaged.
    """
    daily = cdnow_transactions.groupby(["id", "date"], as_index=False)["dollars"].sum()
    calibration = daily[daily["date"] <= CALIBRATION_END]
    holdout = daily[(daily["date"] > CALIBRATION_END) & (daily["date"] <= OBSERVATION_END)]
    by_customer = calibration.groupby("id")["date"]
    first = by_customer.min()
    summary = pd.DataFrame(
        {
            "frequency": by_customer.count() - 1,
            "recency": (by_customer.max() - first).dt.days / 7,
            "T": (CALIBRATION_END - first).dt.days / 7,
        }
    )
    repeat = calibration[calibration["date"] > calibration["id"].map(first)]
    summary["monetary_value"] = repeat.groupby("id")["dollars"].mean()
    summary["frequency_holdout"] = holdout.groupby("id").size()
    summary["monetary_value_holdout"] = holdout.groupby("id")["dollars"].mean()
    return summary.fillna(0.0).astype({"frequency": "int64", "frequency_holdout": "int64"})


def round_half_up(values: np.ndarray, decimals: int = 2) -> np.ndarray:
    """Spreadsheet rounding, as in Hardie's files (numpy rounds halves to even)."""
    factor = 10**decimals
    return np.floor(np.asarray(values) * factor + 0.5 + 1e-9) / factor
