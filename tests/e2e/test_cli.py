import subprocess
import sys

import pytest

from parcours.cli import main
from tests.conftest import write


@pytest.fixture
def ws(tmp_path):
    assert main(["init", str(tmp_path / "ws")]) == 0
    return tmp_path / "ws"


def test_ingest_prints_counts_and_problems_and_exits_2_when_rows_are_quarantined(ws, capsys):
    path = write(
        ws / "orders.csv",
        "order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,10\nA2,2024-31-01,web,5\n",
    )
    capsys.readouterr()
    code = main(["ingest", "orders", str(path), "--workspace", str(ws)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "orders.csv" in out and "│ 2    │ 1      │" in out
    assert "orders.csv:3: ordered_at: '2024-31-01' is not a valid date (expected ISO 8601)" in err
    assert "1 rows quarantined, 1 loaded" in err
    assert "Traceback" not in err


def test_clean_ingest_exits_0(ws, capsys):
    path = write(
        ws / "orders.csv", "order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,10\n"
    )
    assert main(["ingest", "orders", str(path), "-w", str(ws)]) == 0
    assert (
        main(["sql", "select order_id, total_amount from orders", "-w", str(ws), "--format", "csv"])
        == 0
    )
    assert capsys.readouterr().out.endswith("order_id,total_amount\nA1,10.0\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "order", "x.csv"], "error: unknown kind 'order'; hint: use one of: customers"),
        (["ingest", "orders", "missing.csv"], "error: missing.csv: file not found"),
        (["sql", "drop table orders"], "error: only one read-only statement"),
        (["resolve"], "error: no customers, orders or events ingested; hint: parcours ingest"),
        (["identity", "same", "store-1", "web:2"], "error: record: 'store-1' is not a record"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(ws, capsys, args, message):
    code = main([*args, "--workspace", str(ws)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(message)
    assert "Traceback" not in err


def test_config_errors_list_every_problem(ws, capsys):
    (ws / "parcours.yaml").write_text("engin: duckdb\ndefaults: {currency: 3}\n")
    code = main(["sql", "select 1", "-w", str(ws)])
    err = capsys.readouterr().err
    assert code == 2
    assert "parcours.yaml: 2 problems" in err
    assert "  - engin: Extra inputs are not permitted" in err
    assert "  - defaults.currency: Input should be a valid string" in err


def test_a_workspace_without_config_is_a_user_error(tmp_path, capsys):
    code = main(["sql", "select 1", "-w", str(tmp_path)])
    assert code == 2
    assert f"hint: create a workspace with: parcours init {tmp_path}" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys):
    assert main(["ingest", "orders", "--bogus"]) == 2
    assert "No such option: --bogus" in capsys.readouterr().err


def test_every_command_has_help(capsys):
    for command in ["init", "ingest", "sql", "demo", "run", "resolve"]:
        assert main([command, "--help"]) == 0
    assert "Load files into the canonical tables" in capsys.readouterr().out


def test_real_subprocess_run(ws):
    path = write(ws / "o.csv", "order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,-1\n")
    done = subprocess.run(
        [sys.executable, "-m", "parcours", "ingest", "orders", str(path), "-w", str(ws)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "o.csv:2: total_amount: '-1' is below 0" in done.stderr
    assert "Traceback" not in done.stderr


def sql_csv(ws, capsys, query: str, *options: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["sql", query, "-w", str(ws), "--format", "csv", *options])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_sql_reads_the_system_tables_of_a_new_workspace(ws, capsys):
    for table in ("quarantine", "data_quality", "ingest_log"):
        code, out, _ = sql_csv(ws, capsys, f"select count(*) as n from {table}")
        assert (code, out) == (0, "n\n0\n")


@pytest.fixture
def orders_ws(ws):
    path = write(
        ws / "orders.csv",
        "order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,10\nA2,2024-01-02,web,5\n",
    )
    assert main(["ingest", "orders", str(path), "-w", str(ws)]) == 0
    return ws


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "select string_agg(order_id, ' ' order by order_id) from orders",
            "\"string_agg(order_id, ' ' ORDER BY order_id)\"\nA1 A2\n",
        ),
        ("select list(order_id order by order_id) from orders", "\"['A1', 'A2']\"\n"),
        ("select count(*) from orders; -- both days", "count_star()\n2\n"),
        ("select sum(total_amount) from orders;\n/* done */", "sum(total_amount)\n15.0\n"),
    ],
)
def test_sql_answers_unaliased_aggregates_and_ignores_a_trailing_comment(
    orders_ws, capsys, query, expected
):
    code, out, err = sql_csv(orders_ws, capsys, query)
    assert code == 0, err
    assert out.endswith(expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("describe orders", "order_id,VARCHAR"),
        ("show tables", "orders"),
        ("summarize select total_amount from orders", "total_amount,DOUBLE,5.0,10.0,2,7.5"),
        ("explain select * from orders", "physical_plan"),
    ],
)
def test_sql_allows_describe_show_summarize_and_explain(orders_ws, capsys, query, expected):
    code, out, err = sql_csv(orders_ws, capsys, query)
    assert code == 0, err
    assert expected in out


def test_sql_reads_no_file_outside_the_workspace_unless_allowed(orders_ws, capsys, tmp_path):
    outside = write(tmp_path / "secret.csv", "a\nsecret\n")
    query = f"select * from read_csv('{outside}')"
    code, out, err = sql_csv(orders_ws, capsys, query)
    assert code == 2 and "secret" not in out
    assert "file system operations are disabled" in err
    assert sql_csv(orders_ws, capsys, "install httpfs")[0] == 2
    code, out, _ = sql_csv(orders_ws, capsys, query, "--allow-external")
    assert (code, out) == (0, "a\nsecret\n")
