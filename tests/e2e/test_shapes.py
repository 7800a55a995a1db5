"""``parcours run`` on the data shapes real retailers have, on DuckDB and on local Spark.

Each shape is a subset of the hand-made retailer of ``tests/e2e/shapes.py``; the row counts
below are worked out from its rows. A stage without its inputs must be skipped with a line
naming what is missing and the command that brings it, and the run must exit 0.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from parcours.cli import main
from parcours.schema import JOURNEY_TABLES
from parcours.workspace import Workspace
from tests.e2e import shapes
from tests.engines import count, rows

STAGES = ("resolve", "profile", "kpis", "segments", "personas", "clv", "journeys")
NO_ORDERS = "no orders ingested (parcours ingest orders FILE, then parcours resolve)"
NO_EVENTS = "no events ingested (parcours ingest events FILE, then parcours resolve)"

# Keyed touchpoints of the retailer: 12 events (one anonymous visitor), 13 orders of known
# persons (the anonymous store sale has no journey), 2 consent decisions.
EVENT_TOUCHPOINTS, ORDER_TOUCHPOINTS, CONSENT_TOUCHPOINTS = 12, 13, 2
PERSONAS_WITH_ORDERS = 6  # c1-c6; c7 is c2


@dataclass
class Shape:
    name: str
    files: dict[str, dict] = field(default_factory=dict)  # kind -> writer options
    skipped: dict[str, str] = field(default_factory=dict)  # stage -> why
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows
    absent: tuple[str, ...] = ()


EVERY_KIND = {kind: {} for kind in shapes.WRITERS}
# The stages that need orders.
ORDER_STAGES = ("profile", "kpis", "segments", "personas", "clv", "monitor")
SHAPES = [
    Shape(
        "customers only",
        {"customers": {}},
        skipped={
            **{s: NO_ORDERS for s in ORDER_STAGES},
            "journeys": NO_EVENTS,
        },
        counts={"identity_map": 7, "customers_golden": 6},
        absent=("customer_profile", "kpi_segments", "customer_predictions", "journey_timeline"),
    ),
    Shape(
        "customers and orders",
        {"customers": {}, "orders": {}},
        skipped={"journeys": NO_EVENTS},
        counts={
            "customer_orders": 14,
            "customer_profile": PERSONAS_WITH_ORDERS,
            "customer_predictions": shapes.BUYERS,
        },
        absent=("customer_categories", "journey_timeline"),
    ),
    Shape(
        "customers, orders and lines",
        {"customers": {}, "orders": {}, "order-lines": {}},
        skipped={"journeys": NO_EVENTS},
        # One row per buyer and category bought: c1 and c2 tops, trousers and hats,
        # c3 tops+trousers, c4 trousers+hats, c5 tops+trousers (completed orders only).
        counts={"customer_profile": PERSONAS_WITH_ORDERS, "customer_categories": 12},
    ),
    Shape(
        "customers and events",
        {"customers": {}, "events": {}},
        skipped={s: NO_ORDERS for s in ORDER_STAGES},
        counts={"customer_events": 12, "journey_timeline": EVENT_TOUCHPOINTS},
        absent=("customer_profile",),
    ),
    Shape(
        "events only",
        {"events": {}},
        skipped={s: NO_ORDERS for s in ORDER_STAGES},
        counts={"journey_timeline": EVENT_TOUCHPOINTS},
    ),
    Shape(
        "every input",
        EVERY_KIND,
        counts={
            "customer_profile": PERSONAS_WITH_ORDERS,
            "journey_timeline": EVENT_TOUCHPOINTS + ORDER_TOUCHPOINTS + CONSENT_TOUCHPOINTS,
        },
    ),
    Shape(
        "no consents, products or stores",
        {"customers": {}, "orders": {}, "order-lines": {}, "events": {}},
        counts={
            "customer_profile": PERSONAS_WITH_ORDERS,
            "journey_timeline": EVENT_TOUCHPOINTS + ORDER_TOUCHPOINTS,
        },
    ),
    Shape(
        "one customer",
        {"customers": {"n": 1}, "orders": {"customers": {"c1"}}},
        # c1 has 4 purchases: enough for a profile, not for clusters.
        skipped={
            "personas": "too few customers with a purchase (1) for personas",
            "journeys": NO_EVENTS,
        },
        counts={"customer_profile": 1, "customer_orders": 5},
    ),
    Shape(
        "two events",
        {"customers": {}, "events": {"n": 2}},
        skipped={s: NO_ORDERS for s in ORDER_STAGES},
        counts={"journey_timeline": 2},
    ),
]
# Spark: the shape that crosses every code path; one, to keep CI short.
SPARK_SHAPES = ("every input",)


def _params():
    for shape in SHAPES:
        yield pytest.param(shape, "duckdb", id=f"duckdb-{shape.name}")
    for shape in SHAPES:
        if shape.name in SPARK_SHAPES:
            yield pytest.param(shape, "spark", marks=pytest.mark.spark, id=f"spark-{shape.name}")


def run_shape(directory: Path, engine: str, files: dict[str, dict], capsys) -> tuple[str, str]:
    """Init a workspace on ``engine``, ingest the files, run; return what run printed."""
    assert main(["init", str(directory)]) == 0
    config = directory / "parcours.yaml"
    config.write_text(config.read_text().replace("\nengine: duckdb\n", f"\nengine: {engine}\n"))
    for kind, options in files.items():
        path = shapes.WRITERS[kind](directory, **options)
        assert main(["ingest", kind, str(path), "-w", str(directory)]) == 0, kind
    capsys.readouterr()
    code = main(["run", "-w", str(directory)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


@pytest.fixture(scope="module")
def runs():
    """Each shape is run once per engine; later tests of the module read its workspace."""
    done: dict = {}
    yield done
    for directory, _, _ in done.values():
        shutil.rmtree(directory.parent, ignore_errors=True)


def shape_run(runs: dict, shape: Shape, engine: str, capsys) -> tuple[Path, str, str]:
    key = (shape.name, engine)
    if key not in runs:
        directory = Path(tempfile.mkdtemp(prefix="parcours-shape-")) / "ws"
        runs[key] = (directory, *run_shape(directory, engine, shape.files, capsys))
    return runs[key]


@pytest.mark.parametrize(("shape", "engine"), list(_params()))
def test_run_completes_on_every_shape_and_says_what_it_skipped(
    shape: Shape, engine: str, runs, capsys, request
):
    if engine == "spark":
        request.getfixturevalue("spark_session")
    directory, out, err = shape_run(runs, shape, engine, capsys)
    for stage in STAGES:
        line = f"{stage} skipped: {shape.skipped[stage]}" if stage in shape.skipped else None
        if line:
            assert line in err
        else:
            assert f"{stage} skipped" not in err
    # The closing table names every stage with its status.
    table = out[out.rindex("Pipeline") :]
    for stage in STAGES:
        status = "skipped" if stage in shape.skipped else "ran"
        assert any(stage in row and status in row for row in table.splitlines()), stage
    with Workspace.open(directory) as ws:
        for table_name, expected in shape.counts.items():
            assert count(ws, table_name) == expected, table_name
        for table_name in shape.absent:
            assert not ws.engine.has_table(table_name), table_name


def test_customers_and_orders_fill_profile_kpis_segments_personas_and_clv(runs, capsys):
    shape = next(s for s in SHAPES if s.name == "customers and orders")
    directory, _, _ = shape_run(runs, shape, "duckdb", capsys)
    with Workspace.open(directory) as ws:
        profile = {r["customer_key"]: r for r in rows(ws, "customer_profile")}
        orders = sorted(r["orders"] for r in profile.values())
        # c6 never bought; c5 once; c3 and c4 twice; c2 three times (o06-o08, c7 is c2);
        # c1 four times (the cancelled o05 does not count).
        assert orders == [0, 1, 2, 2, 3, 4]
        assert sum(r["revenue"] for r in profile.values()) == 565.0
        assert all(r["lifecycle_segment"] for r in profile.values() if r["orders"])
        kpis = rows(ws, "kpi_segments")
        dimensions = {r["dimension"] for r in kpis}
        assert {"all", "lifecycle_segment", "rfm_segment", "persona"} <= dimensions
        overall = next(r for r in kpis if r["dimension"] == "all")
        assert overall["customers"] == shapes.BUYERS
        assert count(ws, "personas") >= 2
        assert count(ws, "customer_predictions") == shapes.BUYERS


@pytest.mark.spark
def test_journeys_write_the_same_tables_on_spark_as_on_duckdb(runs, capsys, spark_session):
    shape = next(s for s in SHAPES if s.name == "every input")
    counts = {}
    for engine in ("duckdb", "spark"):
        directory, _, _ = shape_run(runs, shape, engine, capsys)
        with Workspace.open(directory) as ws:
            counts[engine] = {spec.name: count(ws, spec.name) for spec in JOURNEY_TABLES}
    assert counts["spark"] == counts["duckdb"]
    assert counts["spark"]["journey_timeline"] == (
        EVENT_TOUCHPOINTS + ORDER_TOUCHPOINTS + CONSENT_TOUCHPOINTS
    )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("journeys", "error: no events ingested; hint: parcours ingest events FILE, then"),
        ("profile", "error: no orders ingested; hint: parcours ingest orders FILE, then"),
        ("personas", "error: no orders ingested; hint: parcours ingest orders FILE, then"),
    ],
)
def test_a_stage_command_without_its_inputs_says_what_is_missing_and_exits_2(
    command, message, runs, capsys
):
    shape = next(s for s in SHAPES if s.name == "customers only")
    directory, _, _ = shape_run(runs, shape, "duckdb", capsys)
    assert main([command, "-w", str(directory)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert "Traceback" not in err
