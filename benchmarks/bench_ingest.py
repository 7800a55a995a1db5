"""Ingest a large French-style orders CSV: time and peak memory, beside a pandas baseline.

The file is generated (never committed). parcours streams it block by block; the baseline is
what people write by hand: pandas.read_csv of the whole file, then the same type conversions.
Each side runs in its own process so that peak RSS is its own.

    python benchmarks/bench_ingest.py --lines 10000000

With ``--jsonl`` it measures JSON-lines events instead: the block reader of
``parcours.ingest.readers`` against the per-line reader it replaced (kept below as the
baseline), reading alone and as part of a whole ``ingest_files`` run.

    python benchmarks/bench_ingest.py --jsonl --lines 2000000
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import print_result, run_side

HERE = Path(__file__).parent


def make_file(path: Path, lines: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    with path.open("w", encoding="cp1252") as f:
        f.write("NUM_TICKET;ID_CLIENT;DATE_HEURE;CANAL;MONTANT_TTC;STATUT\n")
        for start in range(0, lines, chunk):
            n = min(chunk, lines - start)
            ids = np.arange(start, start + n)
            customers = rng.integers(0, lines // 10 + 1, n)
            days = rng.integers(1, 29, n)
            months = rng.integers(1, 13, n)
            amounts = rng.gamma(2.0, 30.0, n).round(2)
            rows = [
                f"T{i};C{c};{d:02d}/{m:02d}/2025 10:{i % 60:02d};MAG;"
                f"{str(a).replace('.', ',')};VALIDE"
                for i, c, d, m, a in zip(ids, customers, days, months, amounts, strict=True)
            ]
            f.write("\n".join(rows) + "\n")


def run_parcours(path: Path) -> dict:
    from parcours.ingest import ingest_files
    from parcours.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(
            Path(tmp) / "ws",
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
                            "values": {
                                "channel": {"MAG": "store"},
                                "status": {"VALIDE": "completed"},
                            },
                        }
                    },
                }
            },
        )
        start = time.perf_counter()
        (summary,) = ingest_files(ws, "orders", [path], source="store").files
        seconds = time.perf_counter() - start
        ws.close()
    return {"seconds": seconds, "rows": summary.loaded, "quarantined": summary.quarantined}


def run_pandas(path: Path) -> dict:
    import pandas as pd

    start = time.perf_counter()
    df = pd.read_csv(path, sep=";", encoding="cp1252", decimal=",", dtype=str)
    df["ordered_at"] = pd.to_datetime(df["DATE_HEURE"], format="%d/%m/%Y %H:%M", errors="coerce")
    df["total_amount"] = pd.to_numeric(df["MONTANT_TTC"].str.replace(",", "."), errors="coerce")
    bad = df["ordered_at"].isna() | df["total_amount"].isna() | (df["total_amount"] < 0)
    good = df[~bad].drop_duplicates("NUM_TICKET", keep="last")
    return {
        "seconds": time.perf_counter() - start,
        "rows": len(good),
        "quarantined": int(bad.sum()),
    }


def make_events(path: Path, lines: int, seed: int = 1) -> None:
    """Minified events with a nested ``properties`` object, as tracking exports write them."""
    rng = np.random.default_rng(seed)
    chunk = 500_000
    types = np.array(["page_view", "product_view", "add_to_cart", "checkout", "purchase"])
    with path.open("w", encoding="utf-8") as f:
        for start in range(0, lines, chunk):
            n = min(chunk, lines - start)
            kinds = types[rng.integers(0, len(types), n)]
            visitors = rng.integers(0, lines // 20 + 1, n)
            known = rng.random(n) < 0.4
            seconds = rng.integers(0, 86_400 * 365, n)
            prices = rng.gamma(2.0, 30.0, n).round(2)
            rows = []
            for i, kind, visitor, has_id, sec, price in zip(
                range(start, start + n), kinds, visitors, known, seconds, prices, strict=True
            ):
                day, rest = divmod(int(sec), 86_400)
                at = (
                    f"2025-{1 + day // 31 % 12:02d}-{1 + day % 28:02d}T{rest // 3600:02d}:"
                    f"{rest // 60 % 60:02d}:{rest % 60:02d}Z"
                )
                customer = f'"C{visitor}"' if has_id else "null"
                rows.append(
                    f'{{"event_id":"E{i}","occurred_at":"{at}","type":"{kind}",'
                    f'"channel":"web","customer_id":{customer},"anonymous_id":"A{visitor}",'
                    f'"session_id":"S{i // 8}","url":"/p/SKU{i % 997}","sku":"SKU{i % 997}",'
                    f'"properties":{{"price":{price},"currency":"EUR","tags":["a","b"]}}}}'
                )
            f.write("\n".join(rows) + "\n")


def stage_jsonl_per_line(path: Path, source, out: Path, progress) -> object:
    """The reader parcours had before the block reader: every line through json.loads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from parcours.ingest.readers import (
        BATCH_ROWS,
        JSON_ERROR,
        LINE,
        Staged,
        _json_record,
        _merge_parts,
    )

    encoding = source.encoding or "utf-8"
    columns: dict[str, None] = {}
    parts: list[Path] = []
    total = 0

    def flush(records, lines) -> None:
        names = list(columns)
        arrays = [pa.array([r.get(n) for r in records], pa.string()) for n in names]
        part = out.with_name(f"{out.stem}.part{len(parts)}.parquet")
        pq.write_table(pa.table([*arrays, pa.array(lines, pa.int64())], names=[*names, LINE]), part)
        parts.append(part)

    records, lines = [], []
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            progress(len(raw))
            if not raw.strip():
                continue
            record = _json_record(raw, encoding)
            for key in record:
                columns.setdefault(key, None)
            records.append(record)
            lines.append(number)
            if len(records) >= BATCH_ROWS:
                flush(records, lines)
                total += len(records)
                records, lines = [], []
    if records or not parts:
        flush(records, lines)
        total += len(records)
    _merge_parts(parts, [*columns, LINE], out)
    return Staged(out, [c for c in columns if c != JSON_ERROR], total, ".")


def run_jsonl(path: Path, reader: str, whole: bool) -> dict:
    from parcours.config import SourceConfig
    from parcours.ingest import ingest_files, readers
    from parcours.workspace import Workspace

    if reader == "per-line":
        readers._stage_jsonl = stage_jsonl_per_line
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if whole:
            ws = Workspace.init(Path(tmp) / "ws")
            (summary,) = ingest_files(ws, "events", [path]).files
            rows = summary.loaded
            ws.close()
        else:
            rows = readers.stage_file(path, SourceConfig(), Path(tmp) / "s.parquet").rows
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "quarantined": 0}


def child(which: str, path: Path) -> None:
    if which.startswith("jsonl:"):
        _, reader, scope = which.split(":")
        result = run_jsonl(path, reader, scope == "ingest")
    else:
        result = {"parcours": run_parcours, "pandas": run_pandas}[which](path)
    print_result(result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--jsonl", action="store_true", help="JSON-lines events instead")
    parser.add_argument("--child")
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file)
        return
    if args.jsonl:
        main_jsonl(args.lines)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.csv"
        make_file(path, args.lines)
        size_mib = path.stat().st_size / 2**20
        results = {}
        for which in ("parcours", "pandas"):
            results[which] = run_side(__file__, which, "--file", str(path))
    lines = [
        f"## Ingestion: {args.lines:,} orders lines, French CSV ({size_mib:,.0f} MiB)",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        "| implementation | time (s) | peak RSS (MiB) | rows loaded |",
        "| --- | --- | --- | --- |",
    ]
    for which, r in results.items():
        lines.append(f"| {which} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} | {r['rows']:,} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with (HERE / "RESULTS.md").open("a") as f:
        f.write("\n" + text)


def main_jsonl(lines: int) -> None:
    runs = {
        "block reader (DuckDB JSON), reading only": "jsonl:block:read",
        "per-line reader (json.loads, baseline), reading only": "jsonl:per-line:read",
        "block reader, whole ingest_files": "jsonl:block:ingest",
        "per-line reader, whole ingest_files": "jsonl:per-line:ingest",
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        make_events(path, lines)
        size_mib = path.stat().st_size / 2**20
        results = {}
        for label, which in runs.items():
            results[label] = run_side(__file__, which, "--file", str(path))
    load = os.getloadavg()[0]
    text_lines = [
        f"## Ingestion: {lines:,} events, JSON lines ({size_mib:,.0f} MiB)",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}; load average "
        f"{load:.1f} when the run ended (the machine was shared). Reading: the file to the "
        "staging Parquet of text columns; whole: also validation, normalisation and the write.",
        "",
        "| implementation | time (s) | peak RSS (MiB) | rows |",
        "| --- | --- | --- | --- |",
    ]
    for label, r in results.items():
        text_lines.append(
            f"| {label} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} | {r['rows']:,} |"
        )
    text = "\n".join(text_lines) + "\n"
    print(text)
    with (HERE / "RESULTS.md").open("a") as f:
        f.write("\n" + text)


if __name__ == "__main__":
    main()
