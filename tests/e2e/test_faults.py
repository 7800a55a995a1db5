"""Kill ``parcours ingest`` and ``parcours run`` with SIGKILL at several moments.

After any kill the workspace holds either what it held before the command or what the
finished command would have written, never a mix; the next command clears what the killed
one left behind and completes. The moments are fractions of the time the same command takes
to finish on this machine, so that they fall early, half-way and late wherever the test runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from parcours.demo import generate
from parcours.demo.run import ingest_demo
from parcours.engine import STAGING_PREFIX, SWAP_JOURNAL, Engine, is_work_table
from parcours.workspace import Workspace
from tests.conftest import write

MOMENTS = (0.25, 0.5, 0.7, 0.85, 0.95)
ORDERS_HEADER = "order_id,customer_id,ordered_at,channel,total_amount\n"


def parcours(ws: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "parcours", *args, "--workspace", str(ws)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def finish(process: subprocess.Popen) -> int:
    _, err = process.communicate(timeout=600)
    assert b"Traceback" not in err and b"internal error" not in err, err.decode()
    return process.returncode


def timed(ws: Path, *args: str) -> float:
    start = time.perf_counter()
    assert finish(parcours(ws, *args)) in (0, 2)
    return time.perf_counter() - start


def killed(ws: Path, after: float, *args: str) -> None:
    process = parcours(ws, *args)
    time.sleep(after)
    process.send_signal(signal.SIGKILL)
    process.wait()


def fingerprint(ws: Path) -> dict[str, tuple]:
    """Rows and non-null values per column of every table: what a consistent state fixes."""
    con = duckdb.connect(str(ws / "parcours.duckdb"), read_only=True)
    try:
        out = {}
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            columns = [r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()]
            counts = ", ".join(f'count("{c}")' for c in columns)
            row = con.execute(f'SELECT count(*), {counts} FROM "{name}"').fetchone()
            out[name] = (row[0], tuple(zip(columns, row[1:], strict=True)))
        return out
    finally:
        con.close()


def leftovers(ws: Path) -> list[str]:
    con = duckdb.connect(str(ws / "parcours.duckdb"), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        names += [
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        ]
    finally:
        con.close()
    return [n for n in names if is_work_table(n)] + [p.name for p in ws.glob(f"{STAGING_PREFIX}*")]


def per_file(ws: Path, files: list[str]) -> dict[str, tuple[int, int, int]]:
    """Per file: orders rows, quarantine rows and ingest_log lines."""
    con = duckdb.connect(str(ws / "parcours.duckdb"), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}

        def n(table: str, name: str) -> int:
            if table not in tables:
                return 0
            sql = f"SELECT count(*) FROM {table} WHERE source_file = ?"
            return con.execute(sql, [name]).fetchone()[0]

        return {f: (n("orders", f), n("quarantine", f), n("ingest_log", f)) for f in files}
    finally:
        con.close()


def orders_file(path: Path, prefix: str, rows: int) -> Path:
    # Every 50th row has an unreadable date, so each file writes quarantine rows too.
    lines = [
        f"{prefix}{i},c{i % 500},{'2024-13-45' if i % 50 == 0 else '2024-03-01'},web,{i % 97}.5"
        for i in range(rows)
    ]
    return write(path, ORDERS_HEADER + "\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def ingest_case(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingest-faults")
    base = root / "base"
    Workspace.init(base).close()
    first = orders_file(root / "jan.csv", "J", 400)
    assert finish(parcours(base, "ingest", "orders", str(first))) == 2
    files = [orders_file(root / "feb.csv", "F", 30_000), orders_file(root / "mar.csv", "M", 30_000)]
    ref = root / "ref"
    shutil.copytree(base, ref)
    seconds = timed(ref, "ingest", "orders", *map(str, files))
    return root, base, files, per_file(ref, [f.name for f in files]), seconds


@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_ingest_leaves_each_file_loaded_whole_or_not_at_all(ingest_case, moment):
    root, base, files, done, seconds = ingest_case
    names = [f.name for f in files]
    assert all(rows and quarantined and logged == 1 for rows, quarantined, logged in done.values())
    ws = root / f"kill-{moment}"
    shutil.copytree(base, ws)

    killed(ws, moment * seconds, "ingest", "orders", *map(str, files))

    state = per_file(ws, names)
    for name in names:
        assert state[name] in ((0, 0, 0), done[name]), (name, state[name], done[name])
    assert finish(parcours(ws, "ingest", "orders", *map(str, files))) == 2
    assert leftovers(ws) == []
    # Loading a file again replaces its rows and adds a line to the log.
    again = {n: (*done[n][:2], 1 + state[n][2]) for n in names}
    assert per_file(ws, names) == again


@pytest.fixture(scope="module")
def run_case(tmp_path_factory):
    """A workspace after one run, then with new customers and orders ingested."""
    root = tmp_path_factory.mktemp("run-faults")
    manifest = generate(root / "data", customers=60, seed=3)
    base = root / "base"
    with Workspace.init(base, sources=manifest.sources) as ws:
        assert not ingest_demo(ws, manifest).failures
    assert finish(parcours(base, "run")) == 0
    previous = fingerprint(base)
    new_customers = write(
        root / "customers.csv",
        "source_id,email,first_name,last_name,created_at\n"
        + "".join(f"n{i},new{i}@mail.fr,Ana{i},Neuve,2024-01-0{1 + i}\n" for i in range(5)),
    )
    assert finish(parcours(base, "ingest", "customers", str(new_customers))) == 0
    new_orders = write(
        root / "orders.csv",
        ORDERS_HEADER + "".join(f"N{i},n{i},2024-02-0{1 + i},web,{20 + i}.5\n" for i in range(5)),
    )
    assert finish(parcours(base, "ingest", "orders", str(new_orders))) == 0
    before = fingerprint(base)
    ref = root / "ref"
    shutil.copytree(base, ref)
    seconds = timed(ref, "run")
    after = fingerprint(ref)
    assert after["customer_profile"] != before["customer_profile"]
    assert (
        previous["customer_profile"]
        == {k: v for k, v in before.items() if k == "customer_profile"}["customer_profile"]
    )
    return root, base, before, after, seconds


@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_run_leaves_the_previous_run_or_the_new_one(run_case, moment):
    root, base, before, after, seconds = run_case
    ws = root / f"kill-{moment}"
    shutil.copytree(base, ws)

    killed(ws, moment * seconds, "run")

    state = fingerprint(ws)
    assert state in (before, after), {t: v for t, v in state.items() if before.get(t) != v}
    assert finish(parcours(ws, "run")) == 0
    assert leftovers(ws) == []
    assert fingerprint(ws) == after


# -- Spark: tables are Parquet folders swapped in through a journal ------------------------

SPARK_CONFIG = {
    "engine": "spark",
    "spark": {
        "master": "local[1]",
        "conf": {"spark.sql.shuffle.partitions": "1", "spark.ui.enabled": "false"},
    },
}


def spark_state(ws: Path) -> dict[str, pa.Table]:
    """The tables the next command will see: a committed swap completed, the rest ignored."""
    tables = ws / "spark-tables"
    if (tables / SWAP_JOURNAL).exists():
        Engine._apply_journal(SimpleNamespace(tables_dir=tables))
    return {
        p.name: pq.read_table(p)
        for p in sorted(tables.iterdir())
        if p.is_dir() and "." not in p.name and not is_work_table(p.name)
    }


def spark_per_file(ws: Path, files: list[str]) -> dict[str, tuple[int, int, int]]:
    state = spark_state(ws)

    def n(table: str, name: str) -> int:
        if table not in state:
            return 0
        return state[table].filter(pc.equal(state[table]["source_file"], name)).num_rows

    return {f: (n("orders", f), n("quarantine", f), n("ingest_log", f)) for f in files}


def spark_leftovers(ws: Path) -> list[str]:
    tables = ws / "spark-tables"
    return [p.name for p in tables.iterdir() if "." in p.name or is_work_table(p.name)] + [
        p.name for p in ws.glob(f"{STAGING_PREFIX}*")
    ]


@pytest.mark.spark
@pytest.mark.parametrize("moment", (0.6, 0.9))
def test_killed_spark_ingest_leaves_each_file_loaded_whole_or_not_at_all(tmp_path, moment):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "parcours.yaml").write_text(yaml.safe_dump(SPARK_CONFIG), encoding="utf-8")
    files = [
        orders_file(tmp_path / "feb.csv", "F", 3_000),
        orders_file(tmp_path / "mar.csv", "M", 3_000),
    ]
    names = [f.name for f in files]
    ref = tmp_path / "ref"
    shutil.copytree(ws, ref)
    seconds = timed(ref, "ingest", "orders", *map(str, files))
    done = spark_per_file(ref, names)
    assert done == {"feb.csv": (2940, 60, 1), "mar.csv": (2940, 60, 1)}

    killed(ws, moment * seconds, "ingest", "orders", *map(str, files))

    state = spark_per_file(ws, names)
    for name in names:
        assert state[name] in ((0, 0, 0), done[name]), (name, state[name], done[name])
    assert finish(parcours(ws, "ingest", "orders", *map(str, files))) == 2
    assert spark_leftovers(ws) == []
    again = {n: (*done[n][:2], 1 + state[n][2]) for n in names}
    assert spark_per_file(ws, names) == again


# A stand-in for a run on Spark: one batch replacing several tables, slowly, so that kills
# land between the writes and during the swap; generation g writes g + 1 rows to each table.
SPARK_BATCH = """
import sys, time
from parcours.workspace import Workspace
import pyarrow as pa
ws = Workspace.open(sys.argv[1])
engine = ws.engine
generation = int(sys.argv[2])
print("ready", flush=True)
with engine.batch():
    for name in ("t1", "t2", "t3", "identity_work_x"):
        rows = pa.table({"g": [generation] * (generation + 1)})
        engine.write(name, engine.from_arrow(rows, name + "_src"), stage="test")
        time.sleep(0.5)
ws.close()
print("done", flush=True)
"""


def spark_batch(ws: Path, generation: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SPARK_BATCH, str(ws), str(generation)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the batch and its JVM, as a machine dying would, and wait until both are gone.

    Killing only the Python process leaves the JVM writing its last files for a while."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while running_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)


def running_in_group(group: int) -> bool:
    """Whether a process of ``group`` still runs (a zombie left unreaped does not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError):
            continue
        if int(pgrp) == group and state != "Z":
            return True
    return False


@pytest.mark.spark
def test_killed_spark_batch_leaves_every_table_of_one_generation(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "parcours.yaml").write_text(yaml.safe_dump(SPARK_CONFIG), encoding="utf-8")
    assert spark_batch(ws, 1).communicate(timeout=600)[0].split() == ["ready", "done"]
    # Time the batch itself (the JVM start varies), then kill later ones across it.
    second = spark_batch(ws, 2)
    assert second.stdout.readline() == "ready\n"
    start = time.perf_counter()
    assert second.stdout.readline() == "done\n"
    seconds = time.perf_counter() - start
    second.wait()
    shutil.copytree(ws / "spark-tables", tmp_path / "generation-2")
    seen = set()
    for moment in (0.2, 0.45, 0.7, 0.9, 1.0):
        shutil.rmtree(ws / "spark-tables")
        shutil.copytree(tmp_path / "generation-2", ws / "spark-tables")
        process = spark_batch(ws, 3)
        assert process.stdout.readline() == "ready\n"
        time.sleep(moment * seconds)
        kill_group(process)
        state = spark_state(ws)
        assert sorted(state) == ["t1", "t2", "t3"]  # the work table is never committed
        rows = {name: t.num_rows for name, t in state.items()}
        assert set(rows.values()) in ({3}, {4}), (moment, rows)  # generation 2 or 3
        seen |= set(rows.values())
    assert 3 in seen  # the early kills left the previous generation whole
    # Any kill is followed by a batch that completes and leaves nothing behind.
    assert spark_batch(ws, 4).communicate(timeout=600)[0].split() == ["ready", "done"]
    assert {name: t.num_rows for name, t in spark_state(ws).items()} == {"t1": 5, "t2": 5, "t3": 5}
    assert spark_leftovers(ws) == []
