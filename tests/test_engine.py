import os
import subprocess
import sys
from contextlib import contextmanager

import pyarrow as pa
import pytest

from parcours.engine import spark_pattern
from parcours.errors import EngineError, UserInputError
from parcours.ingest import ingest_files
from tests.conftest import write

ORDERS = """order_id;customer_id;ordered_at;channel;total_amount;status
1;C1;05/01/2024;store;10,50;completed
2;C1;06/01/2024;web;20,00;completed
3;C2;07/01/2024;app;5,25;completed
4;C2;08/01/2024;web;100,00;cancelled
5;;09/01/2024;store;3,00;completed
"""


def revenue_per_customer(ws):
    orders = ws.engine.table("orders")
    done = orders.filter((orders.status == "completed") & orders.customer_id.notnull())
    expr = done.group_by("customer_id").aggregate(
        revenue=done.total_amount.sum(), orders=done.count()
    )
    return sorted(ws.engine.to_pyarrow(expr).to_pylist(), key=lambda r: r["customer_id"])


@pytest.mark.spark
def test_same_transformation_gives_same_result_on_duckdb_and_spark(
    make_workspace, tmp_path, spark_session
):
    path = write(tmp_path / "orders.csv", ORDERS)
    results = {}
    for engine in ("duckdb", "spark"):
        ws = make_workspace(engine, sources={"pos": {"date_format": "%d/%m/%Y"}})
        ingest_files(ws, "orders", [path], source="pos")
        results[engine] = revenue_per_customer(ws)
    expected = [
        {"customer_id": "C1", "revenue": 30.5, "orders": 2},
        {"customer_id": "C2", "revenue": 5.25, "orders": 1},
    ]
    assert results["duckdb"] == expected
    assert results["spark"] == expected


def test_tables_persist_across_sessions(make_workspace, tmp_path, engine_name):
    ws = make_workspace(engine_name, sources={"pos": {"date_format": "%d/%m/%Y"}})
    ingest_files(ws, "orders", [write(tmp_path / "o.csv", ORDERS)], source="pos")
    ws.close()
    from parcours.workspace import Workspace

    with Workspace.open(ws.dir) as again:
        assert again.engine.has_table("orders")
        assert int(again.engine.execute(again.engine.table("orders").count())) == 5


def test_failed_write_leaves_the_previous_table_intact(workspace):
    engine = workspace.engine
    engine.write("t", engine.from_arrow(pa.table({"x": [1, 2]}), "src"), stage="test")
    t = engine.table("t")
    # A strict cast of 'x1' to an integer fails while the engine runs the query.
    failing = t.select(x=("x" + t.x.cast("string")).cast("int64"))
    with pytest.raises(EngineError, match="test: writing t"):
        engine.write("t", failing, stage="test")
    assert sorted(engine.to_pyarrow(engine.table("t")).column("x").to_pylist()) == [1, 2]


@pytest.mark.parametrize(
    "query",
    [
        "drop table orders",
        "insert into orders values (1)",
        "select 1; drop table orders",
        "create table x as select 1",
        "update orders set x = 1",
    ],
)
def test_sql_refuses_anything_but_one_read_query(workspace, query):
    with pytest.raises(UserInputError, match="read-only"):
        workspace.engine.query(query)


def test_spark_pattern_translates_strftime_formats():
    assert spark_pattern("%d/%m/%Y %H:%M") == "dd/MM/yyyy HH:mm"
    assert spark_pattern("%Y-%m-%dT%H:%M:%S") == "yyyy-MM-dd'T'HH:mm:ss"


def values(engine, name):
    return sorted(engine.to_pyarrow(engine.table(name)).column("x").to_pylist())


def test_a_batch_commits_every_write_and_drop_together_or_none(workspace):
    engine = workspace.engine
    engine.write("a", engine.from_arrow(pa.table({"x": [1]}), "a_src"), stage="test")
    engine.write("gone", engine.from_arrow(pa.table({"x": [9]}), "gone_src"), stage="test")
    with pytest.raises(RuntimeError, match="stopped"), engine.batch():
        engine.write("a", engine.from_arrow(pa.table({"x": [2]}), "a2"), stage="test")
        engine.write("b", engine.from_arrow(pa.table({"x": [3]}), "b2"), stage="test")
        engine.drop("gone")
        assert values(engine, "a") == [2] and values(engine, "b") == [3]  # reads see the batch
        assert not engine.has_table("gone")
        raise RuntimeError("stopped")
    assert values(engine, "a") == [1] and values(engine, "gone") == [9]
    assert not engine.has_table("b")

    with engine.batch():
        engine.write("a", engine.from_arrow(pa.table({"x": [4]}), "a3"), stage="test")
        a = engine.table("a")
        engine.write("a", a.mutate(x=a.x + 1), stage="test")  # reads its own earlier write
        engine.write("identity_work_x", a, stage="test")  # a work table a stage forgot
        engine.drop("gone")
    workspace.close()
    engine = workspace.engine  # what the next command sees
    assert values(engine, "a") == [5]
    assert not engine.has_table("gone") and not engine.has_table("identity_work_x")


def test_replace_rows_swaps_the_rows_that_match_and_keeps_the_others(workspace):
    engine = workspace.engine
    data = pa.table({"k": ["a", "b", "c"], "x": [1, 2, 3]})
    engine.write("t", engine.from_arrow(data, "t_src"), stage="test")
    t = engine.table("t")
    new = engine.from_arrow(pa.table({"x": [20, 40], "k": ["b", "d"]}), "t_new")
    # Rows whose key is b or missing go; the new ones come in the table's own column order.
    with engine.batch():
        engine.replace_rows("t", t.k.isin(["b", "z"]) | t.x.isnull(), new, stage="test")
    got = engine.to_pyarrow(engine.table("t").order_by("k")).to_pylist()
    assert got == [{"k": "a", "x": 1}, {"k": "b", "x": 20}, {"k": "c", "x": 3}, {"k": "d", "x": 40}]
    # A failed batch leaves the table as it was.
    with pytest.raises(RuntimeError, match="stopped"), engine.batch():
        engine.replace_rows("t", engine.table("t").k == "a", new, stage="test")
        raise RuntimeError("stopped")
    assert len(engine.to_pyarrow(engine.table("t"))) == 4
    assert not [n for n in engine.con.list_tables() if n.startswith("_staged_")]


def test_a_spark_swap_killed_half_way_is_completed_by_the_next_start(tmp_path):
    from types import SimpleNamespace

    import pyarrow.parquet as pq

    from parcours.engine import SWAP_JOURNAL, Engine

    def table(folder, x):
        folder.mkdir()
        pq.write_table(pa.table({"x": [x]}), folder / "part-0.parquet")

    tables = tmp_path / "spark-tables"
    tables.mkdir()
    table(tables / "a", 1)  # not yet replaced by a.new-1
    table(tables / "a.new-1", 2)
    table(tables / "b", 4)  # already replaced by b.new-2 before the kill
    table(tables / "c", 5)  # dropped by the batch
    (tables / SWAP_JOURNAL).write_text(
        '{"swap": {"a": "a.new-1", "b": "b.new-2"}, "drop": ["c"]}', encoding="utf-8"
    )
    Engine._apply_journal(SimpleNamespace(tables_dir=tables))
    assert sorted(p.name for p in tables.iterdir()) == ["a", "b"]
    assert pq.read_table(tables / "a").column("x").to_pylist() == [2]
    assert pq.read_table(tables / "b").column("x").to_pylist() == [4]


HOLDER = """
import sys, time
sys.argv = ["parcours", "run", "--as-of", "2024-06-30"]
from parcours.workspace import Workspace
ws = Workspace.open(sys.stdin.readline().strip())
ws.engine
print("holding", flush=True)
time.sleep(60)
"""


@contextmanager
def holding(ws):
    """Another process holding the workspace's write lock, as ``parcours run`` would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        holder.stdin.write(f"{ws}\n")
        holder.stdin.flush()
        assert holder.stdout.readline() == "holding\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("command", [["ingest", "orders"], ["sql", "select 1"]])
def test_a_workspace_held_by_another_command_exits_2_naming_it(tmp_path, capsys, command):
    """Without a read snapshot (the workspace was never written by the CLI), even a read waits."""
    from parcours.cli import main

    assert main(["init", str(tmp_path / "ws")]) == 0
    path = write(tmp_path / "orders.csv", "order_id,ordered_at,channel,total_amount\n")
    assert main(["ingest", "orders", str(path), "-w", str(tmp_path / "ws")]) == 0
    (tmp_path / "ws" / "parcours.duckdb.snapshot").unlink()
    with holding(tmp_path / "ws") as holder:
        capsys.readouterr()
        args = [*command, *([str(path)] if command[0] == "ingest" else [])]
        assert main([*args, "-w", str(tmp_path / "ws")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"the workspace is in use by 'parcours run --as-of 2024-06-30' (pid {holder.pid}" in err
    assert "hint: wait for that command to finish, or stop it" in err
    # The lock ends with its holder, even killed: the command now runs.
    assert main([*args, "-w", str(tmp_path / "ws")]) == 0


def test_sql_while_another_command_writes_answers_from_the_read_snapshot(tmp_path, capsys):
    from parcours.cli import main

    ws = tmp_path / "ws"
    assert main(["init", str(ws)]) == 0
    path = write(
        tmp_path / "orders.csv",
        "order_id,ordered_at,channel,total_amount\nA,2024-01-02,web,3\nB,2024-01-03,web,4\n",
    )
    assert main(["ingest", "orders", str(path), "-w", str(ws)]) == 0
    with holding(ws) as holder:
        capsys.readouterr()
        query = "select count(*) as n, sum(total_amount) as total from orders"
        assert main(["sql", query, "--format", "csv", "-w", str(ws)]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == ["n,total", "2,7.0"]
    err = " ".join(out.err.split())
    assert f"in use by 'parcours run --as-of 2024-06-30' (pid {holder.pid}" in err
    assert "its state when that command started" in err
