"""Ingestion never corrupts silently: numbers, statuses, dates, times and file identities."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from parcours.cli import main
from parcours.ingest import ingest_files
from tests.conftest import write
from tests.engines import count, rows

HEAD = "order_id,ordered_at,channel,total_amount\n"


def put(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write(path, text, encoding)


def amounts(ws) -> dict[str, float]:
    return {r["order_id"]: r["total_amount"] for r in rows(ws, "orders")}


def reasons(ws) -> dict[int, str]:
    return {q["source_line"]: q["reasons"] for q in rows(ws, "quarantine")}


# -- decimal marks ----------------------------------------------------------------------------
def test_a_decimal_comma_after_250_whole_numbers_is_read_as_a_decimal(workspace, tmp_path):
    body = "".join(f"A{i},2024-01-05,store,{i}\n" for i in range(250))
    body += 'B1,2024-01-05,store,"12,90"\n'
    (summary,) = ingest_files(workspace, "orders", [put(tmp_path / "o.csv", HEAD + body)]).files
    assert (summary.read, summary.loaded, summary.quarantined) == (251, 251, 0)
    got = amounts(workspace)
    assert got["B1"] == 12.9  # was 1290: the mark was guessed from the first 200 rows
    assert got["A7"] == 7.0


def test_a_number_of_the_other_decimal_mark_is_quarantined_not_multiplied(workspace, tmp_path):
    text = (
        "order_id;ordered_at;channel;total_amount\n"
        "A1;2024-01-05;store;1 234,50\n"
        "A2;2024-01-05;store;12,00\n"
        "A3;2024-01-05;store;3,5\n"
        "A4;2024-01-05;store;12.50\n"
    )
    (summary,) = ingest_files(workspace, "orders", [put(tmp_path / "o.csv", text)]).files
    assert (summary.loaded, summary.quarantined) == (3, 1)
    assert amounts(workspace) == {"A1": 1234.5, "A2": 12.0, "A3": 3.5}
    assert reasons(workspace) == {5: "total_amount: '12.50' is not a number (decimal mark ',')"}


@pytest.mark.parametrize(
    ("decimal", "value", "loaded"),
    [(",", "12.50", None), (".", "12,5", None), (",", "1.250", 1250.0), (".", "1,250", 1250.0)],
)
def test_a_configured_decimal_mark_is_applied_strictly(
    make_workspace, tmp_path, decimal, value, loaded
):
    ws = make_workspace(sources={"pos": {"decimal": decimal, "delimiter": ";"}})
    text = f"order_id;ordered_at;channel;total_amount\nA1;2024-01-05;store;{value}\n"
    (summary,) = ingest_files(ws, "orders", [put(tmp_path / "o.csv", text)], source="pos").files
    if loaded is None:
        assert summary.quarantined == 1
        assert reasons(ws)[2] == (
            f"total_amount: '{value}' is not a number (decimal mark '{decimal}')"
        )
    else:
        assert amounts(ws) == {"A1": loaded}


def test_a_value_either_mark_reads_differently_is_ambiguous_when_nothing_shows_the_mark(
    workspace, tmp_path
):
    text = (
        "order_id;ordered_at;channel;total_amount\n"
        "A1;2024-01-05;store;1,250\n"
        "A2;2024-01-05;store;40\n"
        "A3;2024-01-05;store;1 000\n"
    )
    (summary,) = ingest_files(workspace, "orders", [put(tmp_path / "o.csv", text)]).files
    assert (summary.loaded, summary.quarantined) == (2, 1)
    assert amounts(workspace) == {"A2": 40.0, "A3": 1000.0}
    assert reasons(workspace)[2] == (
        "total_amount: '1,250' is ambiguous: no value of the file shows its decimal mark"
    )


# -- file identity ----------------------------------------------------------------------------
def test_files_of_one_name_in_two_folders_keep_their_own_quarantine_rows(workspace, tmp_path):
    jan = put(
        tmp_path / "jan" / "orders.csv", HEAD + "J1,2024-01-05,web,10\nJ2,2024-01-06,web,-1\n"
    )
    feb = put(tmp_path / "feb" / "orders.csv", HEAD + "F1,2024-02-05,web,20\nF2,2024-02-06,web,x\n")
    ingest_files(workspace, "orders", [jan])
    ingest_files(workspace, "orders", [feb])
    quarantined = rows(workspace, "quarantine", "file_path")
    assert [(q["file_path"], q["source_line"]) for q in quarantined] == [
        (str(feb.resolve()), 3),
        (str(jan.resolve()), 3),
    ]
    log = {r["file_path"]: r for r in rows(workspace, "ingest_log")}
    for path in (jan, feb):
        entry = log[str(path.resolve())]
        per_file = [q for q in quarantined if q["file_path"] == str(path.resolve())]
        assert {q["sha256"] for q in per_file} == {entry["sha256"]}
        assert (entry["rows_read"], entry["rows_loaded"], entry["rows_quarantined"]) == (2, 1, 1)
        assert entry["rows_loaded"] + len(per_file) == entry["rows_read"]
    assert count(workspace, "orders") + count(workspace, "quarantine") == 4


# -- vocabularies ---------------------------------------------------------------------------
def test_an_unknown_status_is_quarantined_not_counted_as_a_sale(workspace, tmp_path):
    text = HEAD.replace("\n", ",status\n") + (
        "A1,2024-01-05,web,10,REFUNDED\nA2,2024-01-05,web,20,\nA3,2024-01-05,web,30,Returned\n"
    )
    (summary,) = ingest_files(workspace, "orders", [put(tmp_path / "o.csv", text)]).files
    assert (summary.loaded, summary.quarantined) == (2, 1)
    assert {r["order_id"]: r["status"] for r in rows(workspace, "orders")} == {
        "A2": "completed",
        "A3": "returned",
    }
    assert reasons(workspace) == {
        2: "status: 'REFUNDED' is not one of completed, cancelled, returned"
    }


def test_a_status_mapped_in_the_config_loads(make_workspace, tmp_path):
    ws = make_workspace(
        sources={"web": {"tables": {"orders": {"values": {"status": {"REFUNDED": "returned"}}}}}}
    )
    text = HEAD.replace("\n", ",status\n") + "A1,2024-01-05,web,10,REFUNDED\n"
    (summary,) = ingest_files(ws, "orders", [put(tmp_path / "o.csv", text)], source="web").files
    assert summary.quarantined == 0
    assert rows(ws, "orders")[0]["status"] == "returned"


# -- plausibility ---------------------------------------------------------------------------
def test_implausible_dates_and_amounts_are_quarantined(workspace, tmp_path):
    latest = date.today() + timedelta(days=366)
    text = HEAD + (
        "A1,2024-01-05,web,10\n"
        "A2,0001-01-01,web,10\n"
        "A3,9999-12-31,web,10\n"
        "A4,2099-01-01,web,10\n"
        "A5,1989-12-31 23:59:59,web,10\n"
        "A6,2024-01-05,web,1e308\n"
        "A7,2024-01-05,web,2000000000\n"
        "A8,1990-01-01,web,999999999\n"
        f"A9,{latest.isoformat()} 23:59,web,1\n"
    )
    (summary,) = ingest_files(workspace, "orders", [put(tmp_path / "o.csv", text)]).files
    assert (summary.loaded, summary.quarantined) == (3, 6)
    assert sorted(amounts(workspace)) == ["A1", "A8", "A9"]
    got = reasons(workspace)
    window = f"(1990-01-01 to {latest.isoformat()})"
    assert got[3] == f"ordered_at: '0001-01-01' is outside the plausible dates {window}"
    assert got[6] == f"ordered_at: '1989-12-31 23:59:59' is outside the plausible dates {window}"
    assert got[7] == "total_amount: '1e308' is above the plausible maximum 1e+09"
    assert got[8] == "total_amount: '2000000000' is above the plausible maximum 1e+09"


def test_plausibility_limits_come_from_the_config(make_workspace, tmp_path):
    ws = make_workspace(ingest={"max_amount": 100, "earliest_date": "2024-01-01"})
    text = HEAD + "A1,2024-01-05,web,100\nA2,2024-01-05,web,100.5\nA3,2023-12-31,web,1\n"
    (summary,) = ingest_files(ws, "orders", [put(tmp_path / "o.csv", text)]).files
    assert (summary.loaded, summary.quarantined) == (1, 2)
    assert sorted(reasons(ws)) == [3, 4]


def test_an_implausible_optional_time_becomes_null_and_is_counted(workspace, tmp_path):
    text = "source_id,created_at\n1,2020-05-01\n2,1850-01-01\n"
    (summary,) = ingest_files(workspace, "customers", [put(tmp_path / "c.csv", text)]).files
    assert summary.quarantined == 0
    got = rows(workspace, "customers", "source_id")
    assert got[1]["created_at"] is None
    assert summary.findings == [("created_at", "outside the plausible dates", 1, "1850-01-01")]


# -- time zones -----------------------------------------------------------------------------
def test_offsets_are_converted_to_utc_the_same_way_on_every_engine(workspace, tmp_path):
    text = HEAD + (
        "A1,2024-03-01T00:30:00+01:00,web,1\n"
        "A2,2024-03-01T00:30:00Z,web,1\n"
        "A3,2024-03-01 00:30:00,web,1\n"
        "A4,2024-03-01T00:30:00.250-0530,web,1\n"
        "A5,2024-03-01 00:30 +01,web,1\n"
    )
    (summary,) = ingest_files(workspace, "orders", [put(tmp_path / "o.csv", text)]).files
    assert summary.quarantined == 0, summary.examples
    got = {r["order_id"]: r["ordered_at"].isoformat() for r in rows(workspace, "orders")}
    assert got == {
        "A1": "2024-02-29T23:30:00",
        "A2": "2024-03-01T00:30:00",
        "A3": "2024-03-01T00:30:00",
        "A4": "2024-03-01T06:00:00.250000",
        "A5": "2024-02-29T23:30:00",
    }


def test_times_without_offset_are_read_in_the_configured_zone(
    make_workspace, engine_name, tmp_path
):
    ws = make_workspace(engine_name, defaults={"timezone": "Europe/Paris"})
    text = HEAD + (
        "A1,2024-01-15 12:00,web,1\n"  # winter: UTC+1
        "A2,2024-07-15 12:00,web,1\n"  # summer: UTC+2
        "A3,2024-07-15T12:00:00Z,web,1\n"  # an offset wins over the zone
    )
    ingest_files(ws, "orders", [put(tmp_path / "o.csv", text)])
    got = {r["order_id"]: r["ordered_at"].isoformat() for r in rows(ws, "orders")}
    assert got == {
        "A1": "2024-01-15T11:00:00",
        "A2": "2024-07-15T10:00:00",
        "A3": "2024-07-15T12:00:00",
    }


# -- duplicates -----------------------------------------------------------------------------
def test_an_id_repeated_with_different_values_in_one_file_is_reported(workspace, tmp_path):
    text = HEAD + (
        "A1,2024-01-05,web,10\n"
        "A2,2024-01-05,web,20\n"
        "A1,2024-01-05,web,99\n"
        "A2,2024-01-05,web,20\n"  # the same row twice is not a clash
        "A3,2024-01-05,web,1\n"
        "A3,2024-01-06,web,1\n"
    )
    (summary,) = ingest_files(workspace, "orders", [put(tmp_path / "o.csv", text)]).files
    assert summary.duplicates == 2
    assert summary.duplicate_examples == [
        "order_id 'A1': 2 rows (lines 2 to 4)",
        "order_id 'A3': 2 rows (lines 6 to 7)",
    ]
    assert amounts(workspace)["A1"] == 99.0
    (finding,) = rows(workspace, "data_quality")
    assert (finding["field"], finding["rows"]) == ("order_id", 2)
    assert finding["finding"].startswith("same id on several rows with different values")


# -- configuration mistakes are input errors (exit 2) ---------------------------------------
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"delimiter": ";;"}, "sources.pos.delimiter: Value error, must be one character"),
        ({"date_format": "dd/mm/yyyy"}, "'dd/mm/yyyy' is not a strftime format"),
        (
            {"tables": {"orders": {"date_format": "%d/%m/%Q"}}},
            "sources.pos.tables.orders.date_format: Value error, '%d/%m/%Q' is not a strftime",
        ),
        ({"encoding": "utf-9"}, "sources.pos.encoding: Value error, unknown encoding 'utf-9'"),
    ],
)
def test_a_bad_source_setting_exits_2_with_its_key(tmp_path, capsys, source, message):
    import yaml

    ws = tmp_path / "ws"
    assert main(["init", str(ws)]) == 0
    (ws / "parcours.yaml").write_text(yaml.safe_dump({"sources": {"pos": source}}))
    path = put(tmp_path / "o.csv", HEAD + "A1,2024-01-05,web,1\n")
    capsys.readouterr()
    code = main(["ingest", "orders", str(path), "--source", "pos", "-w", str(ws)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and "internal error" not in err


# -- what files hold, and where ---------------------------------------------------------------
def test_line_numbers_stay_right_after_blank_lines_and_multi_line_values(workspace, tmp_path):
    text = (
        "order_id,ordered_at,channel,total_amount,store_id\n"
        "A1,2024-01-05,web,1,\n"
        "\n"
        'A2,2024-01-05,web,-2,"a store\n'
        'on two lines"\n'
        "\n"
        "\n"
        "A3,2024-01-05,web,-3,\n"
    )
    ingest_files(workspace, "orders", [put(tmp_path / "o.csv", text)])
    assert sorted(reasons(workspace)) == [4, 8]
    assert rows(workspace, "orders")[0]["source_line"] == 2


def test_a_utf16_file_with_its_byte_order_mark_is_read(workspace, tmp_path):
    path = put(tmp_path / "o.csv", HEAD + "Aé,2024-01-05,web,1\nA2,2024-01-05,web,-1\n", "utf-16")
    (summary,) = ingest_files(workspace, "orders", [path]).files
    assert (summary.loaded, summary.quarantined) == (1, 1)
    assert rows(workspace, "orders")[0]["order_id"] == "Aé"
    assert sorted(reasons(workspace)) == [3]


def test_a_header_without_final_newline_is_a_file_of_no_rows(workspace, tmp_path):
    (summary,) = ingest_files(workspace, "orders", [put(tmp_path / "o.csv", HEAD.strip())]).files
    assert (summary.read, summary.loaded, summary.quarantined) == (0, 0, 0)


def test_a_plain_ascii_start_then_cp1252_is_read_as_cp1252(workspace, tmp_path):
    body = "".join(f"A{i},2024-01-05,store,1\n" for i in range(4000))  # beyond the sample
    path = put(tmp_path / "o.csv", HEAD + body + "Hélène,2024-01-05,store,2\n", "cp1252")
    (summary,) = ingest_files(workspace, "orders", [path]).files
    assert (summary.loaded, summary.quarantined) == (4001, 0)
    assert "Hélène" in amounts(workspace)


@pytest.mark.parametrize(
    ("content", "settings", "message"),
    [
        (
            (HEAD + "Aé,2024-01-05,web,1\n" + "A,2024-01-05,web,1\n" * 4000).encode()
            + b"B\xe9,2024-01-05,web,1\n",
            {},
            "o.csv:4003: not valid utf-8 text (encodings tried: utf-8, detected)",
        ),
        (
            (HEAD + "A\x81,2024-01-05,web,1\n").encode("latin-1"),
            {"encoding": "cp1252"},
            "o.csv:2: not valid cp1252 text (encodings tried: cp1252, set in the source's config)",
        ),
        (
            HEAD.encode("utf-16-le"),
            {},
            "o.csv: the file has NUL bytes: it is UTF-16 without a byte-order mark, or not text",
        ),
    ],
)
def test_bytes_not_in_the_encoding_are_refused_with_the_line_and_encodings_tried(
    make_workspace, tmp_path, content, settings, message
):
    ws = make_workspace(sources={"s": settings})
    path = tmp_path / "o.csv"
    path.write_bytes(content)
    (failure,) = ingest_files(ws, "orders", [path], source="s").failures
    assert str(failure.problem).startswith(message)
    assert not ws.engine.has_table("orders")


def test_a_folder_and_an_unreadable_file_fail_alone(workspace, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    unreadable = Path("/proc/self/mem")  # exists, and reading it at offset 0 fails
    good = put(tmp_path / "good.csv", HEAD + "A1,2024-01-05,web,1\n")
    report = ingest_files(workspace, "orders", [folder, unreadable, good])
    assert [f.file for f in report.files] == ["good.csv"]
    folder_error, read_error = (str(f.problem) for f in report.failures)
    assert folder_error == (
        f"{folder}: is a folder, not a file; hint: give the files inside it, such as "
        f"{folder / '*.csv'}"
    )
    assert read_error == "/proc/self/mem: cannot read the file: Input/output error"


def test_an_orders_file_given_as_stores_is_refused(workspace, tmp_path):
    text = "order_id,ordered_at,channel,store_id,total_amount\nA1,2024-01-05,store,S1,1\n"
    (failure,) = ingest_files(workspace, "stores", [put(tmp_path / "o.csv", text)]).failures
    assert str(failure.problem) == (
        "o.csv: the file looks like orders (channel, order_id, ordered_at, store_id, "
        "total_amount), not stores: only store_id is a column of stores; hint: parcours ingest "
        "orders o.csv, or map the columns in sources.default.tables.stores.rename"
    )
    assert not workspace.engine.has_table("stores")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'[{"event_id": "e1"},\n {"event_id": "e2"}]\n',
            "e.jsonl: the file is a JSON array, not JSON lines (one object per line)",
        ),
        (
            b"id,type\ne1,page_view\n",
            "e.jsonl: not a JSON-lines file: none of its 2 lines is a JSON object (line 1: "
            "not valid JSON (Expecting value at character 1): b'id,type\\n')",
        ),
        ('{"a": 1}\n'.encode("utf-16"), "e.jsonl: the file is UTF-16 (or not text)"),
    ],
)
def test_files_that_are_not_json_lines_say_what_they_are(workspace, tmp_path, content, message):
    path = tmp_path / "e.jsonl"
    path.write_bytes(content)
    (failure,) = ingest_files(workspace, "events", [path]).failures
    assert str(failure.problem).startswith(message)


def test_garbage_json_lines_among_good_ones_are_quarantined_with_what_is_wrong(workspace, tmp_path):
    text = (
        '{"event_id": "e1", "occurred_at": "2024-01-01T10:00:00Z", "type": "x", '
        '"anonymous_id": "a"}\n'
        "\x01\x02garbage\n"
        '{"event_id": "e2", "occurred_at": "2024-01-01T10:00:00Z", "type": "x", "anonymous_id":\n'
        '["not", "an object"]\n'
    )
    (summary,) = ingest_files(workspace, "events", [put(tmp_path / "e.jsonl", text)]).files
    assert (summary.read, summary.loaded, summary.quarantined) == (4, 1, 3)
    got = reasons(workspace)
    assert got[2] == "not valid JSON (Expecting value at character 1): b'\\x01\\x02garbage\\n'"
    assert got[3].startswith("not valid JSON (Expecting value at character 88)")
    assert got[4] == 'not a JSON object: b\'["not", "an object"]\\n\''
