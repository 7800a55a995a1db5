"""Shared fixtures: workspaces on either engine, a single local Spark session per run."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from parcours.workspace import Workspace

ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(scope="session")
def spark_session():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("parcours-tests")
        # Disable the Spark UI: useless in CI, and several JVMs would fight for its port.
        .config("spark.ui.enabled", "false")
        # Stage progress bars would interleave with the test report.
        .config("spark.ui.showConsoleProgress", "false")
        # One partition: tiny test tables do not need 200 shuffle tasks.
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="parcours-spark-"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


MakeWorkspace = Callable[..., Workspace]


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    if request.param == "spark":
        request.getfixturevalue("spark_session")
    return request.param


@pytest.fixture
def make_workspace(tmp_path: Path) -> MakeWorkspace:
    """Build a workspace in tmp_path with the given config (engine, sources...)."""
    opened: list[Workspace] = []

    def make(engine: str = "duckdb", **config) -> Workspace:
        directory = tmp_path / f"ws{len(opened)}"
        directory.mkdir()
        (directory / "parcours.yaml").write_text(yaml.safe_dump({"engine": engine, **config}))
        ws = Workspace.open(directory)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


@pytest.fixture
def workspace(make_workspace, engine_name) -> Workspace:
    return make_workspace(engine_name)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory):
    """The default-size demo, ingested and keyed by its true persons (built once per run).

    Tests may read it but must not write to its workspace.
    """
    from tests.demo_world import build, key_from_truth

    world = build(tmp_path_factory.mktemp("demo-world"))
    key_from_truth(world)
    yield world
    world.ws.close()
