"""Random order files, valid and invalid rows, in every dialect: nothing is lost or altered.

For each generated file: the CLI exits 0 or 2 (never 1); read = loaded + quarantined; every
loaded amount is the value written, and no row with a broken required field loads.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from parcours.cli import main

BROKEN = ("no_id", "bad_date", "negative", "garbage_amount", "bad_channel", "bad_status")


@dataclass(frozen=True)
class Row:
    order_id: str
    cents: int  # the amount written, in cents
    broken: str | None  # which required field is wrong, None for a valid row
    status: str = "completed"
    thousands: bool = False  # whether the amount is written with a thousands separator
    two_lines: bool = False  # a value spread over two lines (quoted)
    blank_after: bool = False  # an empty line after the row


rows_strategy = st.lists(
    st.builds(
        Row,
        order_id=st.just(""),  # numbered below, so ids are unique
        cents=st.integers(0, 500_000_00),
        broken=st.one_of(st.none(), st.none(), st.sampled_from(BROKEN)),
        status=st.sampled_from(["completed", "cancelled", "returned", ""]),
        thousands=st.booleans(),
        two_lines=st.booleans(),
        blank_after=st.booleans(),
    ),
    min_size=1,
    max_size=25,
)


def amount_text(cents: int, mark: str, thousands: bool) -> str:
    whole, frac = divmod(cents, 100)
    group = {".": ",", ",": "."}[mark] if thousands else ""
    digits = f"{whole:,}".replace(",", group) if thousands else str(whole)
    return f"{digits}{mark}{frac:02d}" if frac else digits


def cells(row: Row, number: int, mark: str) -> dict[str, str]:
    values = {
        "order_id": f"O{number}",
        "ordered_at": "2024-05-17 10:30:00",
        "channel": "web",
        "total_amount": amount_text(row.cents, mark, row.thousands),
        "status": row.status,
        "store_id": "S\n1" if row.two_lines else "S1",
    }
    match row.broken:
        case "no_id":
            values["order_id"] = ""
        case "bad_date":
            values["ordered_at"] = "2024-13-45"
        case "negative":
            values["total_amount"] = "-" + amount_text(max(row.cents, 1), mark, row.thousands)
        case "garbage_amount":
            values["total_amount"] = "12x5"
        case "bad_channel":
            values["channel"] = "teleport"
        case "bad_status":
            values["status"] = "REFUNDED"
    return values


def csv_bytes(
    table: list[dict[str, str]], rows: list[Row], delimiter: str, encoding: str
) -> tuple[bytes, list[int]]:
    """The file, and the line each row starts on."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]), delimiter=delimiter)
    writer.writeheader()
    lines = []
    for values, row in zip(table, rows, strict=True):
        lines.append(out.getvalue().count("\n") + 1)
        writer.writerow(values)
        if row.blank_after:
            out.write("\r\n")
    return out.getvalue().encode(encoding), lines


def jsonl_bytes(table: list[dict[str, str]]) -> tuple[bytes, list[int]]:
    lines = []
    for values in table:
        record = dict(values)
        amount = values["total_amount"]
        # Machine exports write amounts as JSON numbers.
        if amount.replace(".", "", 1).isdigit():
            record["total_amount"] = json.loads(amount)
        lines.append(json.dumps(record, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode(), list(range(1, len(lines) + 1))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    rows=rows_strategy,
    fmt=st.sampled_from(["csv", "csv", "jsonl"]),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]),
    mark=st.sampled_from([".", ","]),
    declared=st.booleans(),
)
def test_random_order_files_lose_and_alter_nothing(rows, fmt, delimiter, encoding, mark, declared):
    if fmt == "jsonl":
        mark, encoding = ".", "utf-8"
    with tempfile.TemporaryDirectory(prefix="parcours-fuzz-") as tmp:
        ws = Path(tmp) / "ws"
        assert main(["init", str(ws)]) == 0
        source = {"decimal": mark} if declared else {}
        (ws / "parcours.yaml").write_text(yaml.safe_dump({"sources": {"shop": source}}))
        table = [cells(row, i, mark) for i, row in enumerate(rows)]
        data, lines = (
            jsonl_bytes(table) if fmt == "jsonl" else csv_bytes(table, rows, delimiter, encoding)
        )
        path = Path(tmp) / f"orders.{fmt}"
        path.write_bytes(data)

        code = main(["ingest", "orders", str(path), "--source", "shop", "-w", str(ws)])

        assert code in (0, 2)
        con = duckdb.connect(str(ws / "parcours.duckdb"), read_only=True)
        try:
            tables = {r[0] for r in con.execute("show tables").fetchall()}
            if "ingest_log" not in tables:  # the file was refused whole: nothing loaded
                assert "orders" not in tables
                return
            read, loaded, quarantined = con.execute(
                "select rows_read, rows_loaded, rows_quarantined from ingest_log"
            ).fetchone()
            in_quarantine = (
                con.execute("select source_line, raw from quarantine").fetchall()
                if "quarantine" in tables
                else []
            )
            loaded_amounts = dict(
                con.execute("select order_id, total_amount from orders").fetchall()
                if "orders" in tables
                else []
            )
        finally:
            con.close()
        assert read == len(rows)
        assert loaded + quarantined == read
        assert len(in_quarantine) == quarantined
        for line, raw in in_quarantine:  # each row is quarantined with its own line
            order_id = json.loads(raw).get("order_id")
            if order_id:
                assert line == lines[int(order_id[1:])]
        assert len(loaded_amounts) == loaded
        for i, row in enumerate(rows):
            order_id = f"O{i}"
            if row.broken is not None:
                assert order_id not in loaded_amounts
            elif order_id in loaded_amounts:
                assert Decimal(str(loaded_amounts[order_id])) == Decimal(row.cents) / 100
