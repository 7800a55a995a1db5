"""The same resolution on Spark as on DuckDB."""

from __future__ import annotations

import pytest

from parcours.identity import resolve
from tests.identity.hand_made import ingest_customers, keys
from tests.identity.test_hard_cases import crowd
from tests.identity.test_keys_and_overrides import ANNE, ANNE_WEB, BOB


@pytest.mark.spark
def test_resolution_on_spark_gives_the_persons_duckdb_gives(
    make_workspace, tmp_path, spark_session
):
    results = []
    for engine in ("duckdb", "spark"):
        ws = make_workspace(engine)
        ingest_customers(ws, tmp_path, "store", crowd("s", twice=False) + [ANNE, BOB])
        ingest_customers(ws, tmp_path, "web", crowd("w", twice=True) + [ANNE_WEB])
        summary = resolve(ws)
        k = keys(ws)
        groups = {frozenset(r for r in k if k[r] == key) for key in k.values()}
        results.append((summary.persons, groups, set(k.values())))
    assert results[0][0] == results[1][0] == 82
    assert results[0][1] == results[1][1]
    assert results[0][2] == results[1][2]  # keys are the same strings on both engines
