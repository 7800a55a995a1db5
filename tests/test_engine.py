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
