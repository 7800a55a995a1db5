"""``parcours demo`` end to end at a small size: every stage runs, prints, and writes its tables."""

from __future__ import annotations

import pytest

from parcours.cli import main
from parcours.workspace import Workspace
from tests.engines import rows

SECTIONS = ("resolve", "profile", "kpis", "segments", "personas", "clv", "journeys")
TITLES = (
    "Warehouse",
    "Records by how",
    "Customer profile as of",
    "KPIs, all customers",
    "Lifecycle segments",
    "RFM segments",
    "Personas",
    "Customer predictions",
    "Funnel checkout",
    "Top paths",
    "Moments of truth",
    "Pipeline",
)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_demo_runs_every_stage_and_keeps_segment_kpis(engine, tmp_path, capsys, request):
    if engine == "spark":
        request.getfixturevalue("spark_session")
    directory = tmp_path / "demo"
    code = main(["demo", "--customers", "200", "--engine", engine, "-w", str(directory)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "skipped" not in err
    for section in SECTIONS:
        assert f" {section} " in out, section
    for title in TITLES:
        assert title in out, title
    # The closing table: every stage ran.
    table = out[out.rindex("Pipeline") :].splitlines()
    for section in SECTIONS:
        assert any(f" {section} " in row and " ran " in row for row in table), section
    with Workspace.open(directory) as ws:
        profile = ws.engine.table("customer_profile")
        for column in ("lifecycle_segment", "rfm_segment", "persona", "clv"):
            assert column in profile.columns, column
        kpis = rows(ws, "kpi_segments")
        dimensions = {r["dimension"] for r in kpis}
        # Written after segments and personas: their breakdowns are there.
        assert {"all", "lifecycle_segment", "rfm_segment", "persona"} <= dimensions
        buyers = next(r["customers"] for r in kpis if r["dimension"] == "all")
        for dimension in ("lifecycle_segment", "rfm_segment", "persona"):
            assert sum(r["customers"] for r in kpis if r["dimension"] == dimension) == buyers
