from pathlib import Path

import pytest

from parcours.errors import UserInputError
from parcours.ingest import ingest_files
from tests.conftest import write
from tests.engines import count, rows

ORDERS = """order_id,customer_id,ordered_at,channel,total_amount,discount_amount,status
A1,C1,2024-01-05 10:00:00,store,12.5,,
A2,C1,2024-02-05,web,30,5,completed
A3,C2,2024-03-01T09:30:00,app,7.25,0,returned
"""


def test_ingest_loads_canonical_orders_with_types_and_defaults(workspace, tmp_path):
    report = ingest_files(workspace, "orders", [write(tmp_path / "orders.csv", ORDERS)])
    (summary,) = report.files
    assert (summary.read, summary.loaded, summary.new, summary.quarantined) == (3, 3, 3, 0)
    got = rows(workspace, "orders", "order_id")
    assert [r["total_amount"] for r in got] == [12.5, 30.0, 7.25]
    assert [r["status"] for r in got] == ["completed", "completed", "returned"]
    assert {r["currency"] for r in got} == {"EUR"}
    assert got[2]["ordered_at"].isoformat() == "2024-03-01T09:30:00"
    assert [r["source_line"] for r in got] == [2, 3, 4]
    assert {r["source"] for r in got} == {"default"}


def test_ingest_quarantines_bad_rows_with_every_reason_and_keeps_good_ones(workspace, tmp_path):
    bad = write(
        tmp_path / "orders.csv",
        "order_id,customer_id,ordered_at,channel,total_amount\n"
        "A1,C1,2024-01-05,store,12.5\n"
        "A2,C1,2024-02-05,web,-3\n"
        ",C2,31/02/2024,MAG,abc\n"
        "A4,C2,2024-03-01,app,10\n",
    )
    (summary,) = ingest_files(workspace, "orders", [bad]).files
    assert (summary.read, summary.loaded, summary.quarantined) == (4, 2, 2)
    assert summary.loaded + summary.quarantined == summary.read
    assert [r["order_id"] for r in rows(workspace, "orders", "order_id")] == ["A1", "A4"]
    quarantined = rows(workspace, "quarantine", "source_line")
    assert [q["source_line"] for q in quarantined] == [3, 4]
    assert quarantined[0]["reasons"] == "total_amount: '-3' is below 0"
    reasons = quarantined[1]["reasons"].split("; ")
    assert reasons == [
        "order_id: missing value",
        "ordered_at: '31/02/2024' is not a valid date (expected ISO 8601)",
        "channel: 'MAG' is not one of store, web, app, phone, marketplace, other",
        "total_amount: 'abc' is not a number (decimal mark '.')",
    ]
    assert '"channel":"MAG"' in quarantined[1]["raw"]
    assert quarantined[1]["source_file"] == "orders.csv"


def test_reingesting_the_same_file_adds_nothing(workspace, tmp_path):
    path = write(tmp_path / "orders.csv", ORDERS)
    ingest_files(workspace, "orders", [path])
    (again,) = ingest_files(workspace, "orders", [path]).files
    assert (again.read, again.loaded, again.new, again.updated) == (3, 3, 0, 0)
    assert count(workspace, "orders") == 3
    assert count(workspace, "ingest_log") == 2


def test_reingesting_changed_records_updates_them_in_place(workspace, tmp_path):
    ingest_files(workspace, "orders", [write(tmp_path / "orders.csv", ORDERS)])
    changed = ORDERS.replace(
        "A2,C1,2024-02-05,web,30,5,completed", "A2,C1,2024-02-05,web,30,5,returned"
    )
    changed += "A9,C3,2024-04-01,web,1,,\n"
    (summary,) = ingest_files(workspace, "orders", [write(tmp_path / "o2.csv", changed)]).files
    assert (summary.new, summary.updated) == (1, 1)
    got = {r["order_id"]: r for r in rows(workspace, "orders")}
    assert len(got) == 4
    assert got["A2"]["status"] == "returned"
    assert got["A2"]["source_file"] == "o2.csv"
    assert got["A1"]["source_file"] == "orders.csv"  # unchanged rows keep their lineage


def test_duplicate_keys_in_one_file_keep_the_last_row(workspace, tmp_path):
    text = ORDERS + "A1,C1,2024-01-05 10:00:00,store,99,,\n"
    (summary,) = ingest_files(workspace, "orders", [write(tmp_path / "o.csv", text)]).files
    assert (summary.read, summary.loaded, summary.new) == (4, 4, 3)
    got = {r["order_id"]: r["total_amount"] for r in rows(workspace, "orders")}
    assert got["A1"] == 99.0


def test_a_file_of_only_bad_rows_loads_nothing_and_loses_nothing(workspace, tmp_path):
    text = "order_id,customer_id,ordered_at,channel,total_amount\n,C1,x,y,z\nB2,,,,\n"
    (summary,) = ingest_files(workspace, "orders", [write(tmp_path / "bad.csv", text)]).files
    assert (summary.read, summary.loaded, summary.quarantined) == (2, 0, 2)
    assert count(workspace, "quarantine") == 2
    assert count(workspace, "orders") == 0


def test_french_store_export_is_detected_and_mapped(make_workspace, tmp_path):
    ws = make_workspace(
        sources={
            "store": {
                "date_format": "%d/%m/%Y %H:%M",
                "tables": {
                    "orders": {
                        "rename": {
                            "NUM_TICKET": "order_id",
                            "ID_CLIENT": "customer_id",
                            "DATE_HEURE": "ordered_at",
                            "CANAL": "channel",
                            "MONTANT_TTC": "total_amount",
                            "STATUT": "status",
                        },
                        "constants": {"currency": "EUR"},
                        "values": {
                            "channel": {"MAG": "store"},
                            "status": {"VALIDE": "completed", "RETOUR": "returned"},
                        },
                    }
                },
            }
        }
    )
    text = (
        "NUM_TICKET;ID_CLIENT;DATE_HEURE;CANAL;MONTANT_TTC;STATUT;CAISSIÈRE\n"
        "T1;C1;05/01/2024 10:15;MAG;1 234,50;VALIDE;Hélène\n"
        "T2;;06/01/2024 11:00;MAG;12,00;RETOUR;Zoé\n"
    )
    path = write(tmp_path / "tickets.csv", text, encoding="cp1252")
    (summary,) = ingest_files(ws, "orders", [path], source="store").files
    assert summary.quarantined == 0, summary.examples
    assert summary.ignored_columns == ["CAISSIÈRE"]
    got = rows(ws, "orders", "order_id")
    assert [r["total_amount"] for r in got] == [1234.5, 12.0]
    assert [r["status"] for r in got] == ["completed", "returned"]
    assert [r["channel"] for r in got] == ["store", "store"]
    assert got[0]["ordered_at"].isoformat() == "2024-01-05T10:15:00"
    assert got[1]["customer_id"] is None


def test_unknown_column_in_mapping_names_the_config_key_and_what_is_available(
    make_workspace, tmp_path
):
    ws = make_workspace(sources={"web": {"tables": {"customers": {"rename": {"mail": "email"}}}}})
    path = write(tmp_path / "c.csv", "source_id,email_address\n1,a@b.fr\n")
    (failure,) = ingest_files(ws, "customers", [path], source="web").failures
    assert str(failure.problem) == (
        "c.csv: unknown column `mail` in sources.web.tables.customers.rename; "
        "available: source_id, email_address; hint: map the columns in "
        "sources.web.tables.customers.rename"
    )


def test_customers_are_normalised_and_extra_columns_kept(workspace, tmp_path):
    text = (
        "source_id,email,phone,birth_date,gender,country,favourite_store\n"
        "1, Marie.Dupont@Example.FR ,06 12 34 56 78,1980-05-17,F,fr,Lille\n"
        "2,not-an-email,0033 6 98 76 54 32,2999-01-01,?,FR,\n"
        "3,,+44 20 7946 0958,,m,,Paris\n"
    )
    (summary,) = ingest_files(workspace, "customers", [write(tmp_path / "c.csv", text)]).files
    assert summary.quarantined == 0
    got = rows(workspace, "customers", "source_id")
    assert [r["email"] for r in got] == ["marie.dupont@example.fr", None, None]
    assert [r["phone"] for r in got] == ["+33612345678", "+33698765432", "+442079460958"]
    assert [r["gender"] for r in got] == ["f", None, "m"]
    assert [r["country"] for r in got] == ["FR", "FR", None]
    assert str(got[0]["birth_date"]) == "1980-05-17" and got[1]["birth_date"] is None
    assert '"favourite_store":"Lille"' in got[0]["attributes"]
    findings = {(f, what): (n, example) for f, what, n, example in summary.findings}
    assert findings[("email", "not an email address")] == (1, "not-an-email")
    assert findings[("birth_date", "implausible")] == (1, "2999-01-01")
    assert findings[("gender", "not a known value")] == (1, "?")


def test_events_need_a_customer_or_anonymous_id_and_keep_nested_properties(workspace, tmp_path):
    text = (
        '{"event_id": "e1", "occurred_at": "2024-01-01T10:00:00Z", "type": "page_view", '
        '"anonymous_id": "a1", "properties": {"path": "/", "n": 2}}\n'
        '{"event_id": "e2", "occurred_at": "2024-01-01T10:01:00Z", "type": "add_to_cart"}\n'
        "{not json\n"
        "\n"
        '{"event_id": "e4", "occurred_at": "2024-01-01T10:02:00Z", "type": "Login", '
        '"customer_id": "C1", "anonymous_id": "a1", "channel": "web"}\n'
    )
    (summary,) = ingest_files(workspace, "events", [write(tmp_path / "ev.jsonl", text)]).files
    assert (summary.read, summary.loaded, summary.quarantined) == (4, 2, 2)
    got = rows(workspace, "events", "event_id")
    assert got[0]["properties"] == '{"path": "/", "n": 2}'
    assert got[1]["type"] == "login"
    quarantined = rows(workspace, "quarantine", "source_line")
    assert [q["source_line"] for q in quarantined] == [2, 3]
    assert quarantined[0]["reasons"] == (
        "customer_id and anonymous_id: all missing, at least one is required"
    )
    assert quarantined[1]["reasons"].startswith("not valid JSON")


def test_parquet_input_is_read_with_its_types(workspace, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "lines.parquet"
    pq.write_table(
        pa.table(
            {
                "order_id": ["A1", "A1"],
                "line_no": [1, 2],
                "sku": ["S1", "S2"],
                "quantity": [2.0, -1.0],
                "amount": [10.0, 5.0],
            }
        ),
        path,
    )
    (summary,) = ingest_files(workspace, "order-lines", [path]).files
    assert (summary.loaded, summary.quarantined) == (1, 1)
    assert rows(workspace, "quarantine")[0]["reasons"] == "quantity: '-1' is below 0"
    assert rows(workspace, "quarantine")[0]["source_line"] == 2


def test_fixed_file_replaces_its_quarantine_rows(workspace, tmp_path):
    path = tmp_path / "orders.csv"
    write(path, "order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,-1\n")
    ingest_files(workspace, "orders", [path])
    assert count(workspace, "quarantine") == 1
    write(path, "order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,1\n")
    ingest_files(workspace, "orders", [path])
    assert count(workspace, "quarantine") == 0
    assert count(workspace, "orders") == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty.csv: the file is empty (no header line)"),
        (
            "ragged.csv",
            b"order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,1\n"
            b"A2,2024-01-01,web,1,extra\n",
            "ragged.csv: line 3 has 5 fields, expected 4; hint: check the delimiter",
        ),
        (
            "latin1.csv",
            "order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,1\n"
            "Aé,2024-01-01,web,1\n".encode("latin-1"),
            "latin1.csv:3: not valid utf-8 text",
        ),
        ("odd.xlsx", b"x", "odd.xlsx: unknown file type '.xlsx'"),
    ],
)
def test_malformed_files_are_refused_whole(make_workspace, tmp_path, name, content, message):
    ws = make_workspace(sources={"s": {"encoding": "utf-8"}})
    path = tmp_path / name
    path.write_bytes(content)
    (failure,) = ingest_files(ws, "orders", [path], source="s").failures
    assert str(failure.problem).startswith(message)
    assert not ws.engine.has_table("orders")


def test_truncated_parquet_is_refused(workspace, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"order_id": ["A1"] * 1000}), good)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (failure,) = ingest_files(workspace, "orders", [cut]).failures
    assert str(failure.problem).startswith("cut.parquet: unreadable Parquet file")


def test_a_huge_field_quarantines_its_row_only(workspace, tmp_path):
    huge = "x" * 2_000_000
    text = (
        f"order_id,ordered_at,channel,total_amount\nA1,2024-01-01,web,1\nA2,2024-01-01,web,{huge}\n"
    )
    (summary,) = ingest_files(workspace, "orders", [write(tmp_path / "h.csv", text)]).files
    assert (summary.loaded, summary.quarantined) == (1, 1)
    assert "total_amount: is 2000000 characters long" in rows(workspace, "quarantine")[0]["reasons"]


def test_one_bad_file_does_not_stop_the_others(workspace, tmp_path):
    good = write(tmp_path / "good.csv", ORDERS)
    missing = tmp_path / "missing.csv"
    report = ingest_files(workspace, "orders", [missing, good])
    assert [f.file for f in report.files] == ["good.csv"]
    assert str(report.failures[0].problem).endswith("file not found")


def test_unknown_kind_is_a_user_error(workspace, tmp_path):
    with pytest.raises(UserInputError, match="unknown kind 'order'"):
        ingest_files(workspace, "order", [Path("x.csv")])
